/**
 * `access-index start`: the projector and the API in one process (the main job), against the
 * configured servers. SIGTERM/SIGINT: the API stops accepting, the projector finishes its batch and
 * leaves the group, then the process exits.
 */
import type { Command } from 'commander';
import type { LiveProjector } from '../../projector/live-projector.ts';
import { type Runtime, onShutdown, openRuntime } from '../../runtime.ts';
import { runStartupChecks } from '../../startup-checks.ts';
import { runCommand } from '../run-command.ts';
import { startProjector } from './project.ts';
import { type RunningApi, startApi } from './serve.ts';

export interface RunningService {
  runtime: Runtime;
  projector: LiveProjector;
  api: RunningApi;
  stop(): Promise<void>;
}

/** Starts projector and API on one runtime; the API's /readyz includes the projector's state. */
export async function startService(options: { host?: string; port?: number } = {}): Promise<RunningService> {
  const runtime = await openRuntime({ ensureTopics: true });
  await runStartupChecks(runtime);
  const projector = await startProjector(runtime);
  const api = await startApi(runtime, {
    ...options,
    readiness: () => {
      const status = projector.status();
      return { ok: status.state === 'running', details: status };
    },
  });
  return {
    runtime,
    projector,
    api,
    async stop() {
      await api.close();
      await projector.stop();
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
