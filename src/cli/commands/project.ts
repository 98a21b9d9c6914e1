/**
 * `access-index project`: the projector alone. Runs until SIGTERM/SIGINT, then finishes the batch in
 * hand, publishes positions and leaves the consumer group.
 */
import { createServer } from 'node:http';
import type { Command } from 'commander';
import { type IntegrityMonitor, monitorFor } from '../../integrity/monitor.ts';
import { createLiveProjector, type LiveProjector } from '../../projector/live-projector.ts';
import { projectorGroupId } from '../../projector/projector.ts';
import { onShutdown, openRuntime, type Runtime } from '../../runtime.ts';
import { runStartupChecks } from '../../startup-checks.ts';
import { runCommand } from '../run-command.ts';

/** Starts a projector on the live generation, following it across rebuild swaps. */
export async function startProjector(runtime: Runtime, monitor?: IntegrityMonitor): Promise<LiveProjector> {
  const projector = createLiveProjector(runtime, monitor ? { monitor } : {});
  await projector.start();
  return projector;
}

export function registerProjectCommand(program: Command): void {
  program
    .command('project')
    .description('run the projector alone: Kafka to Redis and OpenSearch (scale it apart from the API)')
    .option('--metrics-port <port>', 'serve /metrics and /readyz on this port (0: none)', '0')
    .action((options: { metricsPort: string }) =>
      runCommand(async () => {
        // Started even when the stores disagree: the projector then repairs what it can.
        const runtime = await openRuntime({ ensureTopics: true, allowFault: true, memoryBudget: true });
        await runStartupChecks(runtime);
        const integrity = monitorFor(runtime, (g) => projectorGroupId(runtime.config.namespace, g));
        const projector = await startProjector(runtime, integrity);
        await integrity.start();
        const port = Number(options.metricsPort);
        const server = port > 0 ? serveMetrics(runtime, projector, port) : undefined;
        onShutdown(runtime.logger, async () => {
          await projector.stop();
          await integrity.stop();
          server?.close();
          await runtime.close();
        });
      }),
    );
}

/** A tiny side server for a projector without the API: /metrics and /readyz. */
function serveMetrics(runtime: Runtime, projector: LiveProjector, port: number) {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', runtime.metrics.registry.contentType);
      res.end(await runtime.metrics.registry.metrics());
    } else if (req.url === '/readyz') {
      const status = projector.status();
      res.statusCode = status.state === 'running' ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(status));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.listen(port, '127.0.0.1');
  return server;
}
