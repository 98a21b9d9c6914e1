/**
 * `services up | down | status`: find or start local Kafka, OpenSearch and Redis.
 * A server named by the environment (KAFKA_BROKERS, OPENSEARCH_URL, REDIS_URL) is only checked.
 * A server already answering on its port is used as found. Only what `up` started (pid files in
 * <cache>/run) is ever stopped by `down`.
 */
import { createKafkaServer } from './kafka-server.ts';
import type { LocalServer, ServerId } from './local-server.ts';
import { createOpenSearchServer } from './opensearch-server.ts';
import { resolveServicePaths } from './paths.ts';
import * as proc from './process-control.ts';
import { type Probe, probeKafka, probeOpenSearch, probeRedis, waitUntilReady } from './readiness.ts';
import { createRedisServer } from './redis-server.ts';
import { ServiceError } from './service-error.ts';
import { withUpLock } from './up-lock.ts';

/** Where a server comes from. */
export type Origin = 'started' | 'found' | 'environment' | 'container';

/** What `up` and `status` report for one server. */
export interface ServerState {
  id: ServerId;
  label: string;
  address: string;
  up: boolean;
  origin?: Origin;
  pid?: number;
  version?: string;
  detail?: string;
  reason?: string;
  logs?: string;
}

/** Options of createServices. */
export interface ServicesOptions {
  env?: NodeJS.ProcessEnv;
  /** progress lines (default: stderr) */
  print?: (line: string) => void;
}

/** The three commands, plus the addresses clients should use. */
export interface Services {
  up(): Promise<ServerState[]>;
  down(): Promise<void>;
  status(): Promise<ServerState[]>;
}

const ENV_VARS: Record<ServerId, string> = { kafka: 'KAFKA_BROKERS', opensearch: 'OPENSEARCH_URL', redis: 'REDIS_URL' };

/** Creates the service manager; nothing is touched until a command runs. */
// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createServices(options: ServicesOptions = {}): Services {
  const env = options.env ?? process.env;
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  const paths = resolveServicePaths(env);
  const servers = [createRedisServer(paths), createKafkaServer(paths), createOpenSearchServer(paths)];
  const given = (server: LocalServer): string | undefined => env[ENV_VARS[server.id]] || undefined;

  const base = (server: LocalServer, address = server.address) => ({ id: server.id, label: server.label, address });
  const fromProbe = (probe: Probe & { ok: true }, server: LocalServer, cmdline?: string) => ({
    up: true,
    version: probe.version ?? (cmdline ? server.versionFromCommandLine?.(cmdline) : undefined),
    detail: probe.detail,
  });

  /** The running server on the port is not ours: is it the right kind of server? */
  async function inspectForeign(server: LocalServer, patienceMs: number): Promise<ServerState> {
    const holder = await proc.findPortHolder(server.port);
    try {
      const probe = await waitUntilReady(server.probe, { what: server.label, timeoutMs: patienceMs });
      return { ...base(server), origin: 'found', pid: holder?.pid, ...fromProbe(probe, server, holder?.cmdline) };
    } catch (error) {
      const who = holder ? `pid ${holder.pid}: ${holder.cmdline.slice(0, 140)}` : 'an unknown process';
      const reason =
        `port ${server.port} is held by ${who}, which does not answer as ${server.label} (${(error as Error).message}). ` +
        `Stop it, or set ${ENV_VARS[server.id]} to a usable ${server.label}.`;
      return { ...base(server), up: false, reason };
    }
  }

  async function checkGiven(server: LocalServer, address: string, timeoutMs: number): Promise<ServerState> {
    const probe = probeFor(server.id, address);
    try {
      const ok = await waitUntilReady(probe, { what: `${server.label} at ${address} (${ENV_VARS[server.id]})`, timeoutMs });
      return { ...base(server, address), origin: 'environment', ...fromProbe(ok, server) };
    } catch (error) {
      return { ...base(server, address), origin: 'environment', up: false, reason: (error as Error).message };
    }
  }

  /** `started` is set when this call started the server (then the time to ready is printed). */
  async function waitForOurs(server: LocalServer, record: proc.PidRecord, started?: number): Promise<ServerState> {
    const probe = await waitUntilReady(server.probe, {
      what: server.label,
      timeoutMs: server.startTimeoutMs,
      stillRunning: () => proc.isOurProcess(record),
      hint: () => `See the log: ${server.logs}${proc.tailOf(server.logs, 6)}`,
    });
    if (started !== undefined) {
      print(`${server.label}: ready after ${((Date.now() - started) / 1000).toFixed(1)} s (${probe.detail})`);
    }
    return { ...base(server), origin: 'started', pid: record.pid, logs: server.logs, ...fromProbe(probe, server), version: probe.version ?? server.version };
  }

  /**
   * Finds or starts one server. Returns once it is started; `ready` settles when it answers (never
   * rejects). Wrapped in an object because an async function would flatten a returned promise.
   */
  async function bringUp(server: LocalServer): Promise<{ ready: Promise<ServerState> }> {
    const failure = (error: unknown): ServerState => ({ ...base(server), up: false, reason: (error as Error).message });
    const address = given(server);
    if (address) return { ready: checkGiven(server, address, 60_000) };
    const record = proc.readPidFile(server.pidFile);
    if (proc.isOurProcess(record)) return { ready: waitForOurs(server, record).catch(failure) };
    if (record) await proc.removePidFile(server.pidFile);
    if (await proc.isPortOpen(server.port)) return { ready: inspectForeign(server, 15_000) };
    try {
      print(`${server.label}: nothing on port ${server.port}, starting ${server.label}${server.version ? ` ${server.version}` : ''}`);
      await server.prepare(print);
      const started = Date.now();
      const fresh = await server.start();
      await proc.writePidFile(server.pidFile, fresh);
      print(`  started, pid ${fresh.pid}; log: ${server.logs}`);
      return { ready: waitForOurs(server, fresh, started).catch(failure) };
    } catch (error) {
      return { ready: Promise.resolve(failure(error)) };
    }
  }

  async function up(): Promise<ServerState[]> {
    return withUpLock(paths.run, print, async () => {
      // One after the other up to the start (downloads share ~/.m2, and their progress lines stay
      // readable); the waits for readiness overlap.
      const pending: Promise<ServerState>[] = [];
      for (const server of servers) pending.push((await bringUp(server)).ready);
      const states = await Promise.all(pending);
      const failed = states.filter((state) => !state.up);
      if (failed.length > 0) {
        throw new ServiceError(failed.map((state) => `${state.label}: ${state.reason ?? 'not up'}`).join('\n'));
      }
      return states;
    });
  }

  async function down(): Promise<void> {
    for (const server of [...servers].reverse()) {
      const record = proc.readPidFile(server.pidFile);
      if (given(server)) {
        print(`${server.label}: given by ${ENV_VARS[server.id]}, left alone`);
      } else if (proc.isOurProcess(record)) {
        print(`${server.label}: stopping pid ${record.pid}...`);
        const how = await proc.stopProcess(record.pid, 30_000);
        await proc.removePidFile(server.pidFile);
        print(`${server.label}: ${how === 'killed' ? 'killed after 30 s (SIGKILL)' : 'stopped'}`);
      } else {
        if (record) await proc.removePidFile(server.pidFile);
        const open = await proc.isPortOpen(server.port);
        print(`${server.label}: ${open ? 'running but not started by `services up`, left alone' : 'not running'}`);
      }
    }
  }

  async function status(): Promise<ServerState[]> {
    return Promise.all(
      servers.map(async (server): Promise<ServerState> => {
        const address = given(server);
        if (address) return checkGiven(server, address, 0);
        const record = proc.readPidFile(server.pidFile);
        if (proc.isOurProcess(record)) {
          const probe = await server.probe();
          const answer = probe.ok ? fromProbe(probe, server) : { up: false, reason: `not answering yet: ${probe.reason}` };
          const version = (probe.ok ? probe.version : undefined) ?? server.version;
          return { ...base(server), origin: 'started', pid: record.pid, logs: server.logs, ...answer, version };
        }
        if (await proc.isPortOpen(server.port)) return inspectForeign(server, 0);
        return { ...base(server), up: false, reason: 'not running' };
      }),
    );
  }

  return { up, down, status };
}

function probeFor(id: ServerId, address: string): () => Promise<Probe> {
  if (id === 'kafka') return () => probeKafka(address.split(',').map((broker) => broker.trim()));
  if (id === 'opensearch') return () => probeOpenSearch(address.replace(/\/+$/, ''));
  return () => probeRedis(address);
}
