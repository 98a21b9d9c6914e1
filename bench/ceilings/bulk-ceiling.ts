/**
 * The raw OpenSearch `_bulk` ceiling for the projector's own documents: every user document (read
 * back per account) and every history record (scrolled) of the namespace is indexed again, with
 * writeDocs() and the projector's 5 MiB requests, into fresh indices with the live indices' mapping
 * and settings, then refreshed. Measured with 1 and with 2 concurrent bulk streams.
 */
import type { Client } from '@opensearch-project/opensearch';
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
async function recreateLike(client: Client, source: string, target: string): Promise<void> {
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
}

/** Indexes `ops` with `streams` concurrent writers (op i goes to stream i mod streams), then refreshes. */
export async function measureBulkCeiling(client: Client, source: { users: string; history: string }, target: { users: string; history: string }, ops: readonly DocOp[], streams: number, maxBytes = 5 * 1024 * 1024): Promise<BulkCeilingResult> {
  await recreateLike(client, source.users, target.users);
  await recreateLike(client, source.history, target.history);
  const lanes: DocOp[][] = Array.from({ length: streams }, () => []);
  ops.forEach((op, i) => lanes[i % streams]!.push(op));
  let requests = 0;
  let bodyChars = 0;
  const started = performance.now();
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
  await client.indices.refresh({ index: `${target.users},${target.history}` });
  const ms = performance.now() - started;
  const docs = results.reduce((sum, r) => sum + r.indexed + r.deleted, 0);
  if (docs !== ops.length) throw new Error(`bulk ceiling: ${docs} of ${ops.length} documents written (stale: ${results.reduce((s, r) => s + r.stale, 0)})`);
  return { streams, docs, requests, bodyChars, ms, bulkMs, docsPerSecond: (docs * 1000) / ms };
}
