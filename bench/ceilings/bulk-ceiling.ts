/**
 * The raw OpenSearch `_bulk` ceiling for the projector's own documents: every document of the
 * source indices (user documents, fact intervals) is spooled to a file, then
 * indexed again from that file, with writeDocs() and the projector's 5 MiB requests, into fresh
 * indices with the sources' mapping and settings, and refreshed. Measured with 1 and with 2
 * concurrent bulk streams.
 *
 * The documents go through a file, not memory: the full history (6.9 million documents) held as
 * objects took a 9.6 GiB heap and made the bench GC-bound, so its "ceiling" measured the bench.
 * Reading the file back (page cache, a line split per document) costs the bench a small part of
 * what serializing the requests does, and both are on the bench's side of the measurement.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Client } from '@opensearch-project/opensearch';
import { sleep } from '../../src/retry.ts';
import { cpuBetween, cpuSnapshot, type MachineInfo } from '../support/machine.ts';
import { writeDocs } from '../../src/opensearch/bulk-writer.ts';
import type { BulkResult, DocOp } from '../../src/ports/documents.ts';
import { fmt, mib, progress } from '../support/report.ts';

/** An index to copy, and the index its copy is written to. */
export interface SpoolSource {
  index: string;
  target: string;
  /** its documents go as their UTF-8 bytes, as the projector sends user documents (decision 61); as strings otherwise */
  bytes?: boolean;
}

export interface Spool {
  file: string;
  sources: readonly SpoolSource[];
  /** documents per source, in the order of `sources` */
  counts: number[];
  docs: number;
  bytes: number;
  ms: number;
  remove(): Promise<void>;
}

/**
 * Scrolls every document of each source into `file`, one line each: `<source #>\t<id as JSON>\t<document
 * as JSON>` (JSON escapes tabs and newlines, so neither occurs inside a field). One page at a time
 * is in memory.
 */
export async function spoolDocs(client: Client, sources: readonly SpoolSource[], file: string): Promise<Spool> {
  const started = performance.now();
  const out = createWriteStream(file, { encoding: 'utf8' });
  const counts = sources.map(() => 0);
  let bytes = 0;
  let lastReport = started;
  try {
    for (const [i, source] of sources.entries()) {
      for await (const page of scrollPages(client, source.index)) {
        let text = '';
        for (const hit of page) text += `${i}\t${JSON.stringify(hit._id)}\t${JSON.stringify(hit._source)}\n`;
        counts[i]! += page.length;
        bytes += text.length;
        if (!out.write(text)) await once(out, 'drain');
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          progress(`    spooled ${fmt(counts.reduce((a, b) => a + b, 0))} documents (${source.index})`);
        }
      }
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { file, sources, counts, docs: counts.reduce((a, b) => a + b, 0), bytes, ms: performance.now() - started, remove: () => rm(file, { force: true }) };
}

/**
 * A generation's documents spooled for the ceiling, as the projector sends them: its user documents
 * as bytes (decision 61) and its fact intervals, each copied into `<namespace>-users-ceiling` /
 * `<namespace>-facts-ceiling`; the spool file is `<prefix>-ceiling.spool` in the temporary folder.
 */
export async function spoolGeneration(client: Client, indices: { users: string; facts: string }, namespace: string, prefix: string): Promise<Spool> {
  const spool = await spoolDocs(
    client,
    [
      { index: indices.users, target: `${namespace}-users-ceiling`, bytes: true },
      { index: indices.facts, target: `${namespace}-facts-ceiling` },
    ],
    join(tmpdir(), `${prefix}-ceiling.spool`),
  );
  progress(`  spooled ${fmt(spool.counts[0]!)} user documents and ${fmt(spool.counts[1]!)} fact intervals (${mib(spool.bytes)}) in ${fmt(spool.ms / 1000, 1)} s`);
  return spool;
}

/** The hits of `index`, a scroll page at a time, in index order. */
async function* scrollPages(client: Client, index: string): AsyncGenerator<{ _id: string; _source: object }[]> {
  let response = await client.search({ index, scroll: '2m', body: { size: 5000, sort: ['_doc'] } } as never);
  try {
    for (;;) {
      const body = response.body as { _scroll_id?: string; hits: { hits: { _id: string; _source: object }[] } };
      if (body.hits.hits.length === 0) return;
      yield body.hits.hits;
      response = await client.scroll({ scroll_id: body._scroll_id, scroll: '2m' } as never);
    }
  } finally {
    const scrollId = (response.body as { _scroll_id?: string })._scroll_id;
    if (scrollId) await client.clearScroll({ body: { scroll_id: scrollId } } as never).catch(() => undefined);
  }
}

/**
 * The spool's documents as index operations on the targets (version 1: the targets are fresh), in
 * chunks that writeDocs sends as one request of at most `maxBytes`: each operation is sized as
 * writeDocs sizes it, with its action line's fixed part (70 characters) rounded up.
 */
async function* spooledChunks(spool: Spool, maxBytes: number): AsyncGenerator<DocOp[]> {
  const targets = spool.sources.map((s) => ({ index: s.target, json: JSON.stringify(s.target), bytes: s.bytes === true }));
  let chunk: DocOp[] = [];
  let bytes = 0;
  const lines = createInterface({ input: createReadStream(spool.file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    const a = line.indexOf('\t');
    const b = line.indexOf('\t', a + 1);
    const target = targets[Number(line.slice(0, a))]!;
    const id = line.slice(a + 1, b);
    const doc = line.slice(b + 1);
    const size = 80 + target.json.length + id.length + doc.length + 2;
    if (bytes + size > maxBytes && chunk.length > 0) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push({ op: 'index', index: target.index, id: JSON.parse(id) as string, version: 1, doc: target.bytes ? Buffer.from(doc) : doc });
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** OpenSearch's own counters of `indices` (primaries): index and delete operations since the shards opened, failures, documents held. */
export async function indexingTotals(client: Client, indices: string[]): Promise<{ index: number; delete: number; failed: number; docs: Record<string, number> }> {
  const body = (await client.indices.stats({ index: indices, metric: ['indexing', 'docs'] } as never)).body as {
    indices: Record<string, { primaries: { indexing: { index_total: number; delete_total: number; index_failed: number }; docs: { count: number } } }>;
  };
  let index = 0;
  let del = 0;
  let failed = 0;
  const docs: Record<string, number> = {};
  for (const [name, s] of Object.entries(body.indices)) {
    index += s.primaries.indexing.index_total;
    del += s.primaries.indexing.delete_total;
    failed += s.primaries.indexing.index_failed;
    docs[name] = s.primaries.docs.count;
  }
  return { index, delete: del, failed, docs };
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
  });
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

/** Indexes the spool's documents with `streams` concurrent writers (each takes the next request's worth), then refreshes. */
export async function measureBulkCeiling(client: Client, spool: Spool, options: BulkCeilingOptions): Promise<BulkCeilingResult> {
  const { streams, maxBytes = 5 * 1024 * 1024 } = options;
  for (const source of spool.sources) await recreateLike(client, source.index, source.target);
  const targets = spool.sources.map((s) => s.target).join(',');
  let requests = 0;
  let bodyChars = 0;
  const chunks = spooledChunks(spool, maxBytes);
  const cpu0 = cpuSnapshot(options.pids ?? {});
  const started = performance.now();
  const stopRefreshing = refreshLoop(client, targets, options.refreshEveryMs);
  let written = 0;
  const ticker = setInterval(() => progress(`    ${streams} stream(s): ${fmt(written)} of ${fmt(spool.docs)} documents written`), 10_000);
  // Two writers may ask the one generator for a chunk at once: an async generator queues the calls.
  const lane = async (): Promise<BulkResult> => {
    const total: BulkResult = { indexed: 0, deleted: 0, stale: 0 };
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      const r = await writeDocs(client, next.value, {
        maxBytes,
        onRequest: (_seconds, bytes) => {
          requests += 1;
          bodyChars += bytes;
        },
      });
      total.indexed += r.indexed;
      total.deleted += r.deleted;
      total.stale += r.stale;
      written += r.indexed + r.deleted;
    }
    return total;
  };
  const results = await Promise.all(Array.from({ length: streams }, lane)).finally(() => clearInterval(ticker));
  const bulkMs = performance.now() - started;
  const refreshes = await stopRefreshing();
  await client.indices.refresh({ index: targets });
  const ms = performance.now() - started;
  const cpu = cpuBetween(cpu0, cpuSnapshot(options.pids ?? {}));
  const docs = results.reduce((sum, r) => sum + r.indexed + r.deleted, 0);
  if (docs !== spool.docs) throw new Error(`bulk ceiling: ${docs} of ${spool.docs} documents written (stale: ${results.reduce((s, r) => s + r.stale, 0)})`);
  // Written is not enough: every document must have landed under its own id.
  const held = ((await client.count({ index: targets })).body as { count: number }).count;
  if (held !== spool.docs) throw new Error(`bulk ceiling: the targets hold ${held} documents, the spool ${spool.docs}`);
  return {
    streams,
    docs,
    requests,
    bodyChars,
    ms,
    bulkMs,
    docsPerSecond: (docs * 1000) / ms,
    refreshes,
    opensearchCores: (cpu.opensearch * 1000) / ms,
    benchCores: (cpu.self * 1000) / ms,
  };
}

/** The ceiling with 1 and with 2 concurrent streams, each reported as it ends; the best is the ceiling. The caller removes the spool. */
export async function measureStreams(client: Client, spool: Spool, pids: MachineInfo['pids'], indent = '  '): Promise<{ bulk: BulkCeilingResult[]; bulkBest: BulkCeilingResult }> {
  const bulk: BulkCeilingResult[] = [];
  for (const streams of [1, 2]) {
    const r = await measureBulkCeiling(client, spool, { streams, pids });
    bulk.push(r);
    progress(
      `${indent}bulk ceiling, ${streams} stream(s): ${fmt(r.docsPerSecond)} documents/s (${fmt(r.docs)} documents in ${fmt(r.ms / 1000, 1)} s, ${fmt(r.requests)} requests, ${fmt(r.bodyChars / 2 ** 20)} MiB)`,
    );
  }
  return { bulk, bulkBest: bulk.reduce((a, b) => (b.docsPerSecond > a.docsPerSecond ? b : a)) };
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
 * ceiling of the projector's actual write pattern (overwrites of user documents, fact intervals
 * written when they open and again when they close), without the projector's own work in between.
 */
export async function replayBulkBodies(
  client: Client,
  file: string,
  source: { users: string; facts: string },
  target: { users: string; facts: string },
  pids?: MachineInfo['pids'],
): Promise<ReplayResult> {
  await recreateLike(client, source.users, target.users);
  await recreateLike(client, source.facts, target.facts);
  const retarget = (b: string) => b.replaceAll(`"_index":"${source.users}"`, `"_index":"${target.users}"`).replaceAll(`"_index":"${source.facts}"`, `"_index":"${target.facts}"`);
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
  await client.indices.refresh({ index: `${target.users},${target.facts}` });
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
