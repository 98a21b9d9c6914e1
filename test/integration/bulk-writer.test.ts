/**
 * writeDocs against a real OpenSearch: external versions keep the newest document, a stale write is
 * counted and harmless, a delete of a missing document is no error, a rejected document fails the
 * call with OpenSearch's reason, and requests are split by size. The projector's documents and
 * history records all go through it.
 */
import type { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DocOp, writeDocs } from '../../src/opensearch/bulk-writer.ts';
import { AppError } from '../../src/errors.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createTestOpenSearch } from '../helpers/servers.ts';

let ns: TestNamespace;
let client: Client;
let index: string;

beforeAll(async () => {
  ns = createTestNamespace();
  client = createTestOpenSearch();
  index = ns.index('bulk');
  await client.indices.create({
    index,
    body: { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: { dynamic: 'strict', properties: { name: { type: 'keyword' }, n: { type: 'integer' } } } },
  });
});

afterAll(async () => {
  await client?.close();
  await ns?.cleanup();
});

async function get(id: string): Promise<{ version: number; source: unknown } | undefined> {
  const r = await client.get({ index, id }, { ignore: [404] });
  const body = r.body as { found: boolean; _version: number; _source: unknown };
  return body.found ? { version: body._version, source: body._source } : undefined;
}

describe('writeDocs', () => {
  it('writes objects and pre-serialized sources alike, with ids that need escaping', async () => {
    const id = 'acc\u001fuser "1"\\x';
    const ops: DocOp[] = [
      { op: 'index', index, id, version: 3, doc: { name: 'Ana', n: 1 } },
      { op: 'index', index, id: 'b', version: 1, doc: JSON.stringify({ name: 'Bo', n: 2 }) },
    ];
    expect(await writeDocs(client, ops)).toEqual({ indexed: 2, deleted: 0, stale: 0 });
    expect(await get(id)).toEqual({ version: 3, source: { name: 'Ana', n: 1 } });
    expect(await get('b')).toEqual({ version: 1, source: { name: 'Bo', n: 2 } });
  });

  it('never replaces a newer version: the stale write is counted and the document stays', async () => {
    const result = await writeDocs(client, [
      { op: 'index', index, id: 'c', version: 5, doc: { name: 'new' } },
      { op: 'index', index, id: 'c', version: 4, doc: { name: 'old' } },
      { op: 'delete', index, id: 'c', version: 2 },
      { op: 'index', index, id: 'c', version: 5, doc: { name: 'same version' } },
    ]);
    expect(result).toEqual({ indexed: 2, deleted: 0, stale: 2 });
    expect(await get('c')).toEqual({ version: 5, source: { name: 'same version' } });
  });

  it('deletes, and a delete of a document that is not there is not an error', async () => {
    const result = await writeDocs(client, [
      { op: 'delete', index, id: 'b', version: 2 },
      { op: 'delete', index, id: 'never-written', version: 1 },
    ]);
    expect(result).toEqual({ indexed: 0, deleted: 2, stale: 0 });
    expect(await get('b')).toBeUndefined();
  });

  it('a document the mapping rejects fails the call, naming the reason, and is not retriable', async () => {
    const error = await writeDocs(client, [
      { op: 'index', index, id: 'ok', version: 1, doc: { name: 'fine' } },
      { op: 'index', index, id: 'bad', version: 1, doc: { unknown_field: true } },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('opensearch_rejected');
    expect((error as AppError).message).toMatch(/strict_dynamic_mapping_exception/);
    expect(await get('bad')).toBeUndefined();
  });

  it('splits requests by size and writes every document', async () => {
    const sizes: number[] = [];
    const ops: DocOp[] = Array.from({ length: 300 }, (_, i) => ({ op: 'index', index, id: `s${i}`, version: 1, doc: { name: `doc ${i} ${'x'.repeat(200)}`, n: i } }));
    const result = await writeDocs(client, ops, { maxBytes: 16 * 1024, onRequest: (_s, bytes) => sizes.push(bytes) });
    expect(result.indexed).toBe(300);
    expect(sizes.length).toBeGreaterThan(4);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(16 * 1024);
    await client.indices.refresh({ index });
    const count = await client.count({ index, body: { query: { prefix: { name: 'doc ' } } } });
    expect((count.body as { count: number }).count).toBe(300);
  });

  it('awaits betweenRequests between requests (a long write keeps the consumer group heartbeat), not before the first', async () => {
    const events: string[] = [];
    const ops: DocOp[] = Array.from({ length: 60 }, (_, i) => ({ op: 'index', index, id: `h${i}`, version: 1, doc: { name: `doc ${i} ${'y'.repeat(200)}`, n: i } }));
    await writeDocs(client, ops, {
      maxBytes: 4 * 1024,
      onRequest: () => events.push('request'),
      betweenRequests: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push('between');
      },
    });
    const requests = events.filter((e) => e === 'request').length;
    expect(requests).toBeGreaterThan(2);
    // request, between, request, between, …, request: one pause before every request but the first
    expect(events).toEqual(Array.from({ length: 2 * requests - 1 }, (_, i) => (i % 2 === 0 ? 'request' : 'between')));
  });
});
