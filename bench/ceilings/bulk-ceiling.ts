/**
 * The raw OpenSearch `_bulk` ceiling for the projector's own documents: every user document (read
 * back per account) and every history record (scrolled) of the namespace is indexed again, with
 * writeDocs() and the projector's 5 MiB requests, into fresh indices with the live indices' mapping
 * and settings, then refreshed. Measured with 1 and with 2 concurrent bulk streams.
 */
import { createReadStream } from 'node:fs';
import type { Client } from '@opensearch-project/opensearch';
import { sleep } from '../../src/retry.ts';
import { cpuBetween, cpuSnapshot, type MachineInfo } from '../support/machine.ts';
import { type DocOp, writeDocs } from '../../src/opensearch/bulk-writer.ts';
import { readAccountUsers } from '../../src/opensearch/read-users.ts';
import { userDocId } from '../../src/opensearch/user-document.ts';

export interface ReadBack {
  users: DocOp[];
  history: DocOp[];
  ms: number;
}

/** Reads the documents back as index operations on `target` (version 1: the indices are fresh). */
export async function readBack(client: Client, source: { users: string; history: string }, target: { users: string; history: string }, accounts: readonly string[]): Promise<ReadBack> {
  const started = performance.now();
  const users: DocOp[] = [];
  for (const accountId of accounts)
    for await (const doc of readAccountUsers(client, source.users, accountId)) users.push({ op: 'index', index: target.users, id: userDocId(accountId, doc.user_id), version: 1, doc });
  const history: DocOp[] = [];
  let response = await client.search({ index: source.history, scroll: '1m', body: { size: 5000, sort: ['_doc'] } } as never);
  try {
    for (;;) {
      const body = response.body as { _scroll_id?: string; hits: { hits: { _id: string; _source: object }[] } };
      if (body.hits.hits.length === 0) break;
      for (const hit of body.hits.hits) history.push({ op: 'index', index: target.history, id: hit._id, version: 1, doc: hit._source });
      response = await client.scroll({ scroll_id: body._scroll_id, scroll: '1m' } as never);
    }
  } finally {
    const scrollId = (response.body as { _scroll_id?: string })._scroll_id;
    if (scrollId) await client.clearScroll({ body: { scroll_id: scrollId } } as never).catch(() => undefined);
  }
  return { users, history, ms: performance.now() - started };
}

/** (Re)creates `target` with the mapping and the relevant settings of `source`. */
export async function recreateLike(client: Client, source: string, target: string): Promise<void> {
  await client.indices.delete({ index: target }, { ignore: [404] });
  const mapping = (await client.indices.getMapping({ index: source })).body as Record<string, { mappings: object }>;
  const settings = (await client.indices.getSettings({ index: source })).body as Record<string, { settings: { index: Record<string, unknown> } }>;
  const s = Object.values(settings)[0]!.settings.index;
  const keep = ['number_of_shards', 'number_of_replicas', 'refresh_interval', 'gc_deletes'];
  await client.indices.create({
    index: target,
    body: { mappings: Object.values(mapping)[0]!.mappings, settings: Object.fromEntries(keep.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])) },
  } as never);
}

export interface BulkCeilingResult {
  streams: number;
  docs: number;
  requests: number;
  /** characters of the request bodies (≈ bytes: the documents are mostly ASCII) */
  bodyChars: number;
  /** from the first request to the end of the refresh that makes them searchable */
  ms: number;
  bulkMs: number;
  docsPerSecond: number;
  /** refreshes run meanwhile (diagnosis: the projector refreshes every publish tick) */
  refreshes: number;
  /** OpenSearch CPU cores used while measuring (NaN when its process is not visible) */
  opensearchCores: number;
  benchCores: number;
}

export interface BulkCeilingOptions {
  streams: number;
  maxBytes?: number;
  /** refresh both indices every this many ms while writing, as the projector's publisher does */
  refreshEveryMs?: number;
  pids?: MachineInfo['pids'];
}

/** Refreshes `index` on a tick until stopped; returns how many refreshes ran. */
function refreshLoop(client: Client, index: string, everyMs: number | undefined) {
  let stopped = false;
  let count = 0;
  const loop = (async () => {
    while (everyMs && !stopped) {
      await sleep(everyMs);
      if (stopped) break;
      await client.indices.refresh({ index });
      count += 1;
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return count;
  };
}

/** Indexes `ops` with `streams` concurrent writers (op i goes to stream i mod streams), then refreshes. */
export async function measureBulkCeiling(client: Client, source: { users: string; history: string }, target: { users: string; history: string }, ops: readonly DocOp[], options: BulkCeilingOptions): Promise<BulkCeilingResult> {
  const { streams, maxBytes = 5 * 1024 * 1024 } = options;
  await recreateLike(client, source.users, target.users);
  await recreateLike(client, source.history, target.history);
  const lanes: DocOp[][] = Array.from({ length: streams }, () => []);
  ops.forEach((op, i) => lanes[i % streams]!.push(op));
  let requests = 0;
  let bodyChars = 0;
  const cpu0 = cpuSnapshot(options.pids ?? {});
  const started = performance.now();
  const stopRefreshing = refreshLoop(client, `${target.users},${target.history}`, options.refreshEveryMs);
  const results = await Promise.all(
    lanes.map((lane) =>
      writeDocs(client, lane, {
        maxBytes,
        onRequest: (_seconds, bytes) => {
          requests += 1;
          bodyChars += bytes;
        },
      }),
    ),
  );
  const bulkMs = performance.now() - started;
  const refreshes = await stopRefreshing();
  await client.indices.refresh({ index: `${target.users},${target.history}` });
  const ms = performance.now() - started;
  const cpu = cpuBetween(cpu0, cpuSnapshot(options.pids ?? {}));
  const docs = results.reduce((sum, r) => sum + r.indexed + r.deleted, 0);
  if (docs !== ops.length) throw new Error(`bulk ceiling: ${docs} of ${ops.length} documents written (stale: ${results.reduce((s, r) => s + r.stale, 0)})`);
  return { streams, docs, requests, bodyChars, ms, bulkMs, docsPerSecond: (docs * 1000) / ms, refreshes, opensearchCores: (cpu.opensearch * 1000) / ms, benchCores: (cpu.self * 1000) / ms };
}

export interface ReplayResult {
  requests: number;
  /** bulk items sent (every write the projector made, stale ones included) */
  docs: number;
  stale: number;
  ms: number;
  docsPerSecond: number;
  opensearchCores: number;
}

/**
 * Diagnosis: the projector's own _bulk requests (captured during the drain, NUL-separated), sent
 * again one after the other into fresh indices, as fast as OpenSearch takes them. This is the
 * ceiling of the projector's actual write pattern (overwrites of user documents, history records
 * written when they open and again when they close), without the projector's own work in between.
 */
export async function replayBulkBodies(client: Client, file: string, source: { users: string; history: string }, target: { users: string; history: string }, pids?: MachineInfo['pids']): Promise<ReplayResult> {
  await recreateLike(client, source.users, target.users);
  await recreateLike(client, source.history, target.history);
  const retarget = (b: string) => b.replaceAll(`"_index":"${source.users}"`, `"_index":"${target.users}"`).replaceAll(`"_index":"${source.history}"`, `"_index":"${target.history}"`);
  let docs = 0;
  let stale = 0;
  let requests = 0;
  const cpu0 = cpuSnapshot(pids ?? {});
  const started = performance.now();
  // Streamed: a drain's bodies can exceed the longest string V8 allows.
  for await (const body of nulSeparated(file)) {
    requests += 1;
    const response = await client.bulk({ body: retarget(body) } as never);
    for (const item of (response.body as { items: Record<string, { status: number }>[] }).items) {
      docs += 1;
      if (Object.values(item)[0]!.status === 409) stale += 1;
    }
  }
  await client.indices.refresh({ index: `${target.users},${target.history}` });
  const ms = performance.now() - started;
  const cpu = cpuBetween(cpu0, cpuSnapshot(pids ?? {}));
  return { requests, docs, stale, ms, docsPerSecond: (docs * 1000) / ms, opensearchCores: (cpu.opensearch * 1000) / ms };
}

/** The NUL-separated records of a file, read in chunks. */
async function* nulSeparated(file: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (chunk as string)).split('\u0000');
    rest = parts.pop()!;
    for (const part of parts) if (part.length > 0) yield part;
  }
  if (rest.length > 0) yield rest;
}
