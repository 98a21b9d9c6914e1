/**
 * Load and latency helpers for the API and freshness benches:
 *
 * - latency statistics (exact percentiles over every recorded sample);
 * - a load worker in its own Node process (bench/support/load-worker.ts), driven over IPC, that
 *   runs closed-loop cases (N concurrent callers for a bounded time) against the API over HTTP
 *   keep-alive, or the same reads sent straight to Redis and OpenSearch;
 * - the real `access-index serve` command in a child process on a free port (the API alone, as an
 *   operator runs it), with its resident memory read from /proc;
 * - resident memory of any process (VmRSS and its peak VmHWM, the figure process.memoryUsage().rss
 *   gives from inside).
 *
 * Everything talks to 127.0.0.1 only.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.ts';
import { freePort } from '../../src/services/ports.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');

/* ------------------------------------------------------------------ statistics */

export interface LatencyStats {
  /** successful calls recorded (after the warm-up) */
  count: number;
  errors: number;
  /** calls per second over the measured window (successful ones) */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values (p in 0..1). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

/** Statistics of latencies in milliseconds measured over `windowMs`. */
export function latencyStats(latenciesMs: ArrayLike<number>, windowMs: number, errors = 0): LatencyStats {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    errors,
    rps: windowMs > 0 ? (sorted.length * 1000) / windowMs : Number.NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

/* ------------------------------------------------------------------ the load worker */

export interface HttpItem {
  path: string;
  token: string;
}

/** What the worker can send straight to the servers (the API's own reads, without the API). */
export type DirectOp =
  /** readSummary: the one Redis MULTI the summary runs */
  | 'summary-multi'
  /** the summary's whole Redis path: HGETALL positions (beginRead), then the MULTI */
  | 'summary-path'
  /** the search body the API builds, sent to the index (no point in time) */
  | 'search'
  /** searchUsersPage: the API's own listing code (create PIT, search, delete PIT) */
  | 'search-pit'
  /** readUser: one GET of the user document */
  | 'get'
  /** the drill-down's whole server path: HGETALL positions, then the GET */
  | 'get-path';

export interface DirectItem {
  accountId: string;
  userId: string;
  q: string;
}

export interface CaseSpec {
  connections: number;
  durationMs: number;
  warmupMs: number;
}

export type LoadJob =
  | ({
      kind: 'http';
      baseUrl: string;
      items: HttpItem[];
      ok404?: boolean;
      /**
       * Close the point in time of every answer that hands out a next_cursor (a long listing's first
       * page), after the answer is timed: decoded with the API's secret, deleted on OpenSearch. The
       * closing is not in the latency but is in the case's window (fewer requests per second).
       */
      releaseCursors?: { opensearchUrl: string; secret: string };
    } & CaseSpec)
  | ({
      kind: 'direct';
      op: DirectOp;
      items: DirectItem[];
      redisUrl: string;
      opensearchUrl: string;
      space: { namespace: string; generation: string };
      index: string;
      secret: string;
    } & CaseSpec);

export interface LoadResult {
  stats: LatencyStats;
  /** HTTP status counts (http) or error messages (direct) */
  statuses: Record<string, number>;
  /** listings answered with a next_cursor (each holds an OpenSearch point in time for 5 minutes) */
  cursors: number;
  /** of those, the ones whose point in time the worker closed (releaseCursors) */
  releasedCursors?: number;
  /** CPU seconds the worker itself used during the case */
  workerCpuSeconds: number;
  aborted?: string;
}

export interface LoadWorker {
  pid: number;
  run(job: LoadJob): Promise<LoadResult>;
  close(): Promise<void>;
}

/** Starts the load worker: a separate Node process, so the load does not share the API's CPU time. */
export function startLoadWorker(): LoadWorker {
  const child = fork(join(here, 'load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending: { resolve: (r: LoadResult) => void; reject: (e: Error) => void } | undefined;
  child.on('message', (message: { ok: boolean; result?: LoadResult; error?: string }) => {
    const p = pending;
    pending = undefined;
    if (!p) return;
    if (message.ok) p.resolve(message.result!);
    else p.reject(new Error(`load worker: ${message.error}`));
  });
  child.on('exit', (code) => {
    pending?.reject(new Error(`load worker exited (${code})`));
    pending = undefined;
  });
  return {
    pid: child.pid!,
    run(job) {
      if (pending) return Promise.reject(new Error('load worker busy'));
      return new Promise((resolvePromise, reject) => {
        pending = { resolve: resolvePromise, reject };
        child.send(job);
      });
    },
    close: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolvePromise();
    });
    child.kill(signal);
  });
}

/* ------------------------------------------------------------------ the API in its own process */

/** The environment that points the product's commands at a bench namespace. */
export function productEnv(config: Config, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    KAFKA_BROKERS: config.kafkaBrokers.join(','),
    OPENSEARCH_URL: config.opensearchUrl,
    REDIS_URL: config.redisUrl,
    ACCESS_INDEX_NAMESPACE: config.namespace,
    TOPIC_USERS: config.topics.users,
    TOPIC_ROLES: config.topics.roles,
    TOPIC_QUEUES: config.topics.queues,
    TOPIC_INBOXES: config.topics.inboxes,
    TOPIC_DEAD_LETTER: config.topics.deadLetter,
    ACCESS_INDEX_PUBLISH_INTERVAL_MS: String(config.publishIntervalMs),
    ...extra,
  };
}

export interface ApiProcess {
  url: string;
  pid: number;
  /** the request log (one JSON line per request, at LOG_LEVEL) */
  logFile: string;
  memory(): ProcessMemory;
  /** warn/error lines of the log so far, by message */
  logProblems(): Record<string, number>;
  stop(): Promise<void>;
}

/** A product command (bin/access-index.js) in its own process, its stdout and stderr appended to `logFile`. */
function spawnProduct(args: string[], env: NodeJS.ProcessEnv, logFile: string, nodeArgs: string[] = []): ChildProcess {
  const fd = openSync(logFile, 'w');
  try {
    return spawn(process.execPath, [...nodeArgs, join(repoRoot, 'bin', 'access-index.js'), ...args], { cwd: repoRoot, env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `access-index serve --port <free port>` (the real command: startApi, @hono/node-server) with
 * the namespace's configuration; its log goes to `logFile`. Resolves once /healthz answers.
 */
export async function startApiProcess(config: Config, options: { secret: string; logFile: string; logLevel?: string; nodeArgs?: string[] }): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawnProduct(
    ['serve', '--host', '127.0.0.1', '--port', String(port)],
    productEnv(config, { ACCESS_INDEX_JWT_SECRET: options.secret, LOG_LEVEL: options.logLevel ?? 'info' }),
    options.logFile,
    options.nodeArgs,
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`access-index serve exited (${child.exitCode}); see ${options.logFile}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error('access-index serve did not answer /healthz within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    logFile: options.logFile,
    memory: () => processMemory(child.pid!),
    logProblems: () => logProblems(options.logFile),
    stop: () => stopChild(child),
  };
}

export interface ProjectorProcess {
  pid: number;
  logFile: string;
  /** resident memory now and its peak (the kernel's high-water mark); read it before stop() */
  memory(): ProcessMemory;
  /** warn/error lines of the log so far, by message */
  logProblems(): Record<string, number>;
  /** SIGTERM: the projector finishes its batch, publishes positions and leaves the group */
  stop(): Promise<void>;
}

/**
 * Runs `access-index project` (the real command: the projector alone, as an operator scales it) with
 * the namespace's configuration; its log goes to `logFile`. Resolves once the process runs; callers
 * wait for positions (LivePipeline.waitSearchable) to know it has drained.
 */
export function startProjectorProcess(config: Config, options: { logFile: string; logLevel?: string; nodeArgs?: string[] }): ProjectorProcess {
  // BENCH_PROJECTOR_METRICS_PORT: the projector serves /metrics there, to watch a long drain from outside.
  const metricsPort = process.env.BENCH_PROJECTOR_METRICS_PORT;
  const child = spawnProduct(
    ['project', ...(metricsPort ? ['--metrics-port', metricsPort] : [])],
    productEnv(config, { LOG_LEVEL: options.logLevel ?? 'info' }),
    options.logFile,
    options.nodeArgs,
  );
  return {
    pid: child.pid!,
    logFile: options.logFile,
    memory: () => processMemory(child.pid!),
    logProblems: () => logProblems(options.logFile),
    stop: async () => {
      if (child.exitCode !== null) throw new Error(`access-index project exited (${child.exitCode}) before it was stopped; see ${options.logFile}`);
      await stopChild(child);
    },
  };
}

/** A log file's text; empty when it is not there (yet). */
function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The log's lines with message `msg`, parsed (pino JSON). */
export function logLines(file: string, msg: string): Record<string, unknown>[] {
  return readLog(file)
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function logProblems(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readLog(file).split('\n')) {
    if (!line.includes('"level":40') && !line.includes('"level":50') && !line.includes('"level":60')) continue;
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? 'unparsed';
    out[msg] = (out[msg] ?? 0) + 1;
  }
  return out;
}

/* ------------------------------------------------------------------ memory */

export interface ProcessMemory {
  /** resident set size now (what process.memoryUsage().rss reports from inside) */
  rss: number;
  /** peak resident set size of the process so far */
  peakRss: number;
}

/**
 * Starts this process's peak resident memory (`peakRss`) again from its resident memory now
 * (Linux: writing 5 to /proc/self/clear_refs resets VmHWM), so that a later reading is the peak of
 * what ran in between.
 */
export function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

/** Resident memory of a process from /proc (NaN when it cannot be read). */
export function processMemory(pid: number | 'self'): ProcessMemory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kib('VmRSS'), peakRss: kib('VmHWM') };
  } catch {
    return { rss: Number.NaN, peakRss: Number.NaN };
  }
}
