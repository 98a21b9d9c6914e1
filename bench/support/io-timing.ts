/**
 * Where the projector waits: wraps the Redis and OpenSearch clients handed to it (the bench's own
 * instances; nothing in src/ changes) and records, per kind of call, how many there were, the sum
 * of their latencies, and the wall time during which at least one was in flight ("busy").
 * Busy time is what bounds throughput: calls that overlap count once.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';

export interface CallStats {
  calls: number;
  /** sum of latencies (overlapping calls add up) */
  sumMs: number;
  /** wall time with at least one call of this kind in flight */
  busyMs: number;
  bytes: number;
}

function createTracker() {
  const stats = new Map<string, CallStats & { inFlight: number; since: number }>();
  return {
    begin(kind: string, bytes = 0): () => void {
      let s = stats.get(kind);
      if (!s) stats.set(kind, (s = { calls: 0, sumMs: 0, busyMs: 0, bytes: 0, inFlight: 0, since: 0 }));
      const t0 = performance.now();
      s.calls += 1;
      s.bytes += bytes;
      if (s.inFlight++ === 0) s.since = t0;
      const entry = s;
      return () => {
        const t1 = performance.now();
        entry.sumMs += t1 - t0;
        if (--entry.inFlight === 0) entry.busyMs += t1 - entry.since;
      };
    },
    snapshot(): Record<string, CallStats> {
      return Object.fromEntries(
        [...stats].sort(([a], [b]) => a.localeCompare(b)).map(([k, s]) => [k, { calls: s.calls, sumMs: Math.round(s.sumMs), busyMs: Math.round(s.busyMs), bytes: s.bytes }]),
      );
    },
    reset(): void {
      stats.clear();
    },
  };
}

export type IoTracker = ReturnType<typeof createTracker>;

/**
 * Times every command the Redis client sends (MULTI/pipeline members included), by command name;
 * and those of every connection duplicated from it: the projector talks on a connection of its own
 * (`redis.duplicate()`, src/projector/projector.ts), which was not traced before session 42.
 */
export function traceRedis(redis: Redis, tracker: IoTracker): void {
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = (command: { name: string; promise: Promise<unknown> }, ...rest: unknown[]) => {
    const end = tracker.begin(`redis ${command.name}`);
    command.promise.then(end, end);
    return (original as (...a: unknown[]) => unknown)(command, ...rest);
  };
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (...args: Parameters<Redis['duplicate']>) => {
    const copy = duplicate(...args);
    traceRedis(copy, tracker);
    return copy;
  };
}

/** Times every OpenSearch request by API (`_bulk`, `_refresh`, `_search`, other). */
export function traceOpenSearch(client: Client, tracker: IoTracker, onBulkBody?: (body: string) => void): void {
  const transport = client.transport as unknown as { request: (params: { path?: string; body?: unknown; bulkBody?: unknown }, ...rest: unknown[]) => Promise<unknown> };
  const original = transport.request.bind(transport);
  transport.request = (params, ...rest) => {
    const path = params.path ?? '';
    const kind = path.includes('_bulk')
      ? 'opensearch _bulk'
      : path.includes('_refresh')
        ? 'opensearch _refresh'
        : path.includes('_search')
          ? 'opensearch _search'
          : 'opensearch other';
    const body = params.bulkBody ?? params.body;
    // The bulk writer sends one Buffer; other callers strings.
    const bytes = typeof body === 'string' ? body.length : Buffer.isBuffer(body) ? body.length : 0;
    if (onBulkBody && kind === 'opensearch _bulk' && (typeof body === 'string' || Buffer.isBuffer(body))) onBulkBody(body.toString());
    const end = tracker.begin(kind, bytes);
    const result = original(params, ...rest);
    // A promise (or a plain value from a callback-style call): the request ends when it settles.
    void Promise.resolve(result).then(end, end);
    return result;
  };
}

export const createIoTracker = createTracker;
