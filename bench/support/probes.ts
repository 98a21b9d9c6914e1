/**
 * The freshness bench's probes: how long after an event's send its account's summary and search
 * reflect it, read from Redis and through the API. They run in a process of their own
 * (probe-worker.ts, started by startProbeProcess), as a client of the service does: in the
 * projector's process every reply waited for the projector's event loop, whose lateness (p99 about
 * 60 ms, up to 500 ms beside the neighbours) was counted as the service's.
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { KeySpace } from '../../src/redis/keys.ts';
import { sleep } from '../../src/retry.ts';
import type { SampleAt } from './live-pipeline.ts';

export const PROBES = ['summary (Redis)', 'summary (API)', 'searchable (Redis)', 'searchable (API)'] as const;
export type Probe = (typeof PROBES)[number];

export interface SampleResult {
  ackMs: number;
  type: string;
  /** ms from just before the send; null when the probe gave up or failed */
  probes: Record<Probe, number | null>;
  failures: string[];
}

/** A search word no generated name or email has (8 letters: typo-tolerant matching stays far from real words). */
const NO_MATCH = 'qxqzqxqz';

/**
 * One Redis poller for every waiting probe: every `everyMs`, one pipeline reads the published
 * positions and the applied offsets of the accounts being waited for, and resolves what is reached.
 * (A poll loop per probe would multiply Redis calls as lag grows.)
 */
export function createRedisWatcher(redis: Redis, positionsKey: string, metaKey: (accountId: string) => string, everyMs = 5) {
  interface Waiter {
    /** the hash fields, any of which reaching `offset` resolves */
    at: [key: string, field: string][];
    offset: bigint;
    since: number;
    deadline: number;
    resolve: (ms: number | null) => void;
  }
  const waiters = new Set<Waiter>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (waiters.size > 0) {
        const reads = [...new Set([...waiters].flatMap((w) => w.at.map(([key, field]) => `${key}\u0000${field}`)))].map((k) => k.split('\u0000') as [string, string]);
        const pipeline = redis.pipeline();
        for (const [key, field] of reads) pipeline.hget(key, field);
        const results = (await pipeline.exec()) ?? [];
        const now = performance.now();
        const values = new Map(reads.map(([key, field], i) => [`${key}\u0000${field}`, results[i]?.[1] as string | null]));
        for (const w of waiters) {
          const reached = w.at.some(([key, field]) => {
            const value = values.get(`${key}\u0000${field}`);
            return value !== null && value !== undefined && BigInt(value) >= w.offset;
          });
          if (reached) {
            waiters.delete(w);
            w.resolve(now - w.since);
          } else if (now > w.deadline) {
            waiters.delete(w);
            w.resolve(null);
          }
        }
      }
      await sleep(everyMs);
    }
  })();
  const wait = (at: [string, string][], offset: bigint, since: number, waitMs: number) =>
    new Promise<number | null>((resolve) => waiters.add({ at, offset, since, deadline: since + waitMs, resolve }));
  return {
    /** ms from `since` until the account's applied offset of `field` reaches `offset` */
    applied: (accountId: string, field: string, offset: bigint, since: number, waitMs: number) => wait([[metaKey(accountId), `off:${field}`]], offset, since, waitMs),
    /**
     * ms from `since` until the published searchable position of `field` reaches `offset`: the
     * generation's, or the account's own (decision 34)
     */
    searchable: (accountId: string, field: string, offset: bigint, since: number, waitMs: number) =>
      wait(
        [
          [positionsKey, field],
          [metaKey(accountId), `s:${field}`],
        ],
        offset,
        since,
        waitMs,
      ),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export type RedisWatcher = ReturnType<typeof createRedisWatcher>;

/**
 * A GET's status, and for any other than 200 the start of its body (a problem's reason). A kept-alive
 * socket the API closed as idle (its keep-alive timeout) just as this request went out fails with
 * ECONNRESET before the API saw the request; it is sent again once on a new socket, as Node's
 * documentation advises (`request.reusedSocket`).
 */
export function httpGet(agent: Agent, base: URL, path: string, token: string, retried = false): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      if (status === 200) res.resume();
      else res.on('data', (chunk: Buffer) => (body = (body + chunk.toString()).slice(0, 400)));
      res.on('end', () => resolvePromise({ status, body }));
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET') resolvePromise(httpGet(agent, base, path, token, true));
      else reject(error);
    });
    req.end();
  });
}

/**
 * The four probes of one sampled event, timed from just before its send (`sentAtEpochMs`, the
 * sender's wall clock): its account's applied offset and searchable position in Redis, and the
 * summary and a search through the API with `min_position` at the event.
 */
export function createProber(options: { watcher: RedisWatcher; apiUrl: string; token: (accountId: string) => Promise<string>; waitMs: number }) {
  const { watcher, waitMs } = options;
  const base = new URL(options.apiUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const epochOffset = Date.now() - performance.now();
  return async (s: SampleAt): Promise<SampleResult> => {
    const since = s.sentAtEpochMs - epochOffset;
    const failures: string[] = [];
    const token = await options.token(s.accountId);
    const minPosition = `${s.topic}:${s.partition}:${s.offset}`;
    const prefix = `/v1/accounts/${encodeURIComponent(s.accountId)}/access`;
    const viaApi = async (path: string): Promise<number | null> => {
      const answer = await httpGet(agent, base, `${prefix}${path}${path.includes('?') ? '&' : '?'}min_position=${encodeURIComponent(minPosition)}&wait_ms=${waitMs}`, token).catch(
        (e: Error) => ({ status: 0, body: e.message }),
      );
      if (answer.status === 200) return performance.now() - since;
      failures.push(`${path.split('?')[0]}: ${answer.status} ${answer.body}`);
      return null;
    };
    const field = `${s.topic}:${s.partition}`;
    const [a, b, c, d] = await Promise.all([
      watcher.applied(s.accountId, field, s.offset, since, waitMs),
      viaApi('/summary'),
      watcher.searchable(s.accountId, field, s.offset, since, waitMs),
      // A search that matches no one: the API waits for min_position, then searches; with no row
      // there is no cursor, so the listing's point in time is closed at once (a listing with more
      // rows than `size` keeps one open 5 minutes, and the cluster allows 300 at a time).
      viaApi(`/users?size=1&q=${NO_MATCH}`),
    ]);
    return { ackMs: s.ackMs, type: s.type, probes: { 'summary (Redis)': a, 'summary (API)': b, 'searchable (Redis)': c, 'searchable (API)': d }, failures };
  };
}

/** What the probe process is told first: where the stores and the API are. */
export interface ProbeInit {
  redisUrl: string;
  brokers: string[];
  /** the live generation's key space (its positions, the accounts' meta) */
  space: KeySpace;
  apiUrl: string;
  /** the API's token secret: the process mints one token per account */
  secret: string;
  waitMs: number;
}

/** The small account's changes, sent and probed by the probe process (the neighbour case). */
export interface SmallAccountJob {
  topic: string;
  accountId: string;
  inboxId: string;
  users: string[];
  /** the prefix of the events' ids */
  idPrefix: string;
  durationMs: number;
  sampleMs: number;
}

type SerializedSample = Omit<SampleAt, 'offset'> & { offset: string };

export type ProbeRequest = { kind: 'init'; init: ProbeInit } | { kind: 'probe'; id: number; sample: SerializedSample } | { kind: 'small'; job: SmallAccountJob } | { kind: 'stop' };

export type ProbeReply =
  | { kind: 'ready' }
  | { kind: 'probed'; id: number; result: SampleResult }
  | { kind: 'small-sent' }
  | { kind: 'small-done'; results: SampleResult[] }
  | { kind: 'error'; error: string };

export interface ProbeProcess {
  pid: number;
  /** the four probes of an event sent elsewhere (the churn producer's samples) */
  probe(sample: SampleAt): Promise<SampleResult>;
  /**
   * Sends the small account's changes every `sampleMs` for `durationMs`, each probed: `sent` settles
   * once the last is sent, `results` once every probe has answered.
   */
  smallAccount(job: SmallAccountJob): { sent: Promise<void>; results: Promise<SampleResult[]> };
  stop(): Promise<void>;
}

/** A probe whose process ended before it answered: every measure lost, the reason named. */
function lostSample(error: Error): SampleResult {
  return { ackMs: 0, type: 'unknown', probes: { 'summary (Redis)': null, 'summary (API)': null, 'searchable (Redis)': null, 'searchable (API)': null }, failures: [error.message] };
}

/** Starts the probe process (probe-worker.ts) and waits until its clients are connected. */
export function startProbeProcess(init: ProbeInit): Promise<ProbeProcess> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = fork(join(here, 'probe-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const probed = new Map<number, (result: SampleResult) => void>();
  let small: { sent: () => void; resolve: (results: SampleResult[]) => void; reject: (error: Error) => void } | undefined;
  let failed: Error | undefined;
  let nextId = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const send = (message: ProbeRequest) => child.send(message);
  return new Promise((resolveStarted, rejectStarted) => {
    const fail = (error: Error) => {
      failed ??= error;
      rejectStarted(error);
      small?.reject(error);
      // A probe the process took with it is lost, not waited for.
      for (const resolve of probed.values()) resolve(lostSample(error));
      probed.clear();
    };
    child.on('message', (message: ProbeReply) => {
      if (message.kind === 'ready')
        resolveStarted({
          pid: child.pid!,
          probe: (sample) =>
            failed
              ? Promise.resolve(lostSample(failed))
              : new Promise((resolve) => {
                  const id = nextId++;
                  probed.set(id, resolve);
                  send({ kind: 'probe', id, sample: { ...sample, offset: sample.offset.toString() } });
                }),
          smallAccount(job) {
            let sent: () => void = () => {};
            const sentPromise = new Promise<void>((resolve) => (sent = resolve));
            const results = failed
              ? Promise.reject(failed)
              : new Promise<SampleResult[]>((resolve, reject) => {
                  small = { sent, resolve, reject };
                  send({ kind: 'small', job });
                });
            // A failure before the last send ends the wait for it too (the results carry the error).
            results.catch(() => sent());
            return { sent: sentPromise, results };
          },
          async stop() {
            if (child.connected) send({ kind: 'stop' });
            await exited;
          },
        });
      else if (message.kind === 'probed') {
        probed.get(message.id)?.(message.result);
        probed.delete(message.id);
      } else if (message.kind === 'small-sent') small?.sent();
      else if (message.kind === 'small-done') small?.resolve(message.results);
      else fail(new Error(`probe process: ${message.error}`));
    });
    child.on('exit', (code) => fail(new Error(`probe process exited (${code})`)));
    send({ kind: 'init', init });
  });
}
