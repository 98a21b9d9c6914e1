/**
 * `access-index start`: the projector and the API in one process (the main job), against the
 * configured servers. SIGTERM/SIGINT: the API stops accepting, the projector finishes its batch and
 * leaves the group, then the process exits.
 */
import type { Command } from 'commander';
import { type IntegrityMonitor, monitorFor } from '../../integrity/monitor.ts';
import type { LiveProjector } from '../../projector/live-projector.ts';
import { projectorGroupId } from '../../projector/projector.ts';
import { type Runtime, onShutdown, openRuntime } from '../../runtime.ts';
import { runStartupChecks } from '../../startup-checks.ts';
import { runCommand } from '../run-command.ts';
import { startProjector } from './project.ts';
import { type RunningApi, startApi } from './serve.ts';

export interface RunningService {
  runtime: Runtime;
  projector: LiveProjector;
  api: RunningApi;
  integrity: IntegrityMonitor;
  stop(): Promise<void>;
}

/** Starts projector and API on one runtime; the API's /readyz includes the projector's state. */
export async function startService(options: { host?: string; port?: number } = {}): Promise<RunningService> {
  // Started even when the stores disagree: reports then answer 503 while the projector repairs.
  const runtime = await openRuntime({ ensureTopics: true, allowFault: true, memoryBudget: true });
  await runStartupChecks(runtime);
  const integrity = monitorFor(runtime, (g) => projectorGroupId(runtime.config.namespace, g));
  const projector = await startProjector(runtime, integrity);
  await integrity.start();
  const api = await startApi(runtime, {
    ...options,
    integrity,
    readiness: () => {
      const status = projector.status();
      return { ok: status.state === 'running', details: status };
    },
  });
  return {
    runtime,
    projector,
    api,
    integrity,
    async stop() {
      await api.close();
      await projector.stop();
      await integrity.stop();
      await runtime.close();
    },
  };
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('projector and API in one process, against the configured servers (the main job)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action((options: { host: string }) =>
      runCommand(async () => {
        const service = await startService({ host: options.host });
        process.stderr.write(`access-index is running: ${service.api.url}\n`);
        onShutdown(service.runtime.logger, () => service.stop());
      }),
    );
}
