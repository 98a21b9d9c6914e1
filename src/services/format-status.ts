/**
 * Human lines for `services status` and the end of `services up`.
 */
import type { Origin, ServerState } from './services.ts';

const ORIGIN: Record<Origin, string> = {
  started: 'started by `services up`',
  found: 'found (not started by us)',
  environment: 'given by the environment',
  container: 'testcontainers',
};

/** One line per server: name, up/down, origin, pid, address, version, detail. */
export function formatStates(states: ServerState[]): string {
  return states
    .map((state) => {
      const parts = [
        state.label.padEnd(10),
        (state.up ? 'up' : 'down').padEnd(4),
        (state.origin ? ORIGIN[state.origin] : '-').padEnd(26),
        (state.pid ? `pid ${state.pid}` : '').padEnd(10),
        state.address,
        state.version ? `v${state.version}` : '',
        state.up ? (state.detail ?? '') : (state.reason ?? ''),
      ];
      return parts.join('  ').replace(/\s+$/, '');
    })
    .join('\n');
}
