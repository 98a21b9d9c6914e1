/**
 * `access-index serve`: the API and the web page alone, reading what the projector writes (scale
 * them apart). `startApi` is also what `start` uses to run the API beside its projector.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Command } from 'commander';
import { createApp } from '../../api/app.ts';
import type { Readiness } from '../../api/service-routes.ts';
import { loadConfig, requireJwtSecret } from '../../config.ts';
import { type IntegrityMonitor, monitorFor } from '../../integrity/monitor.ts';
import { eventTopics } from '../../kafka/client.ts';
import { projectorGroupId } from '../../projector/projector.ts';
import { type Runtime, onShutdown, openRuntime } from '../../runtime.ts';
import { runStartupChecks } from '../../startup-checks.ts';
import { runCommand } from '../run-command.ts';

export interface StartApiOptions {
  /** default: the config's PORT; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1: exposing the API is a deliberate choice (`--host 0.0.0.0`) */
  host?: string;
  /** the in-process projector's readiness, for /readyz */
  readiness?: () => Readiness | Promise<Readiness>;
  /** the integrity monitor to gate reports by (`start` shares its projector's); default: one of its own */
  integrity?: IntegrityMonitor;
}

export interface RunningApi {
  /** e.g. http://127.0.0.1:8080/ */
  url: string;
  /** Stops accepting, lets requests in flight finish (at most 5 s), then closes. */
  close(): Promise<void>;
}

/** Serves the API on a socket. Throws ConfigError when ACCESS_INDEX_JWT_SECRET is unset. */
export async function startApi(runtime: Runtime, options: StartApiOptions = {}): Promise<RunningApi> {
  const { config, clients, metrics, logger } = runtime;
  const jwtSecret = requireJwtSecret(config);
  const ownMonitor = options.integrity ? undefined : monitorFor(runtime, (g) => projectorGroupId(config.namespace, g));
  const integrity = options.integrity ?? ownMonitor!;
  await ownMonitor?.start();
  const app = createApp({
    redis: clients.redis,
    opensearch: clients.opensearch,
    namespace: config.namespace,
    jwtSecret,
    integrity,
    metrics,
    logger: logger.child({ component: 'api' }),
    topics: eventTopics(config.topics),
    ...(options.readiness ? { readiness: options.readiness } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? config.port, hostname: host }, () => resolve(s)) as Server;
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  logger.info({ url }, 'API listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 5_000);
        server.close(() => {
          clearTimeout(force);
          void (ownMonitor?.stop() ?? Promise.resolve()).then(() => resolve());
        });
        server.closeIdleConnections();
      }),
  };
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`--port must be an integer from 0 to 65535 (got ${JSON.stringify(text)})`);
  return Number(text);
}

/** Adds the `serve` command. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the API and the web page alone (reads what the projector writes)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (default: PORT, 8080)')
    .action((options: { host: string; port?: string }) =>
      runCommand(async () => {
        // Checked before connecting anywhere: without a secret there is nothing to serve.
        requireJwtSecret(loadConfig());
        const port = parsePort(options.port);
        // Started even when the stores disagree: reports then answer 503 with the reason.
        const runtime = await openRuntime({ allowFault: true, memoryBudget: true });
        await runStartupChecks(runtime);
        const api = await startApi(runtime, { host: options.host, ...(port === undefined ? {} : { port }) });
        process.stdout.write(`Access report: ${api.url}\nAPI docs:      ${api.url}docs\n`);
        onShutdown(runtime.logger, async () => {
          await api.close();
          await runtime.close();
        });
      }),
    );
}
