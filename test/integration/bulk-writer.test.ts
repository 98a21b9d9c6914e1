/**
 * The documents port on OpenSearch: the documents contract (test/contract/documents.ts) against a
 * real OpenSearch, and what only the adapter does: requests split by size, a pause between them.
 * The projector's documents and fact intervals all go through it.
 */
import type { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, partlyApplied } from '../../src/errors.ts';
import { writeDocs } from '../../src/opensearch/bulk-writer.ts';
import { createOpenSearchDocuments } from '../../src/opensearch/documents.ts';
import type { DocOp } from '../../src/ports/documents.ts';
import { documentsContract } from '../contract/documents.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createTestOpenSearch } from '../helpers/servers.ts';

let ns: TestNamespace;
let client: Client;
let index: string;
let created = 0;

const strictMappings = { dynamic: 'strict', properties: { name: { type: 'keyword' }, n: { type: 'integer' } } } as const;
const settings = { number_of_shards: 1, number_of_replicas: 0 };

async function createIndex(): Promise<string> {
  const name = ns.index(`docs-${(created += 1)}`);
  await client.indices.create({ index: name, body: { settings, mappings: strictMappings } });
  return name;
}

beforeAll(async () => {
  ns = createTestNamespace();
  client = createTestOpenSearch();
  index = await createIndex();
});

afterAll(async () => {
  await client?.close();
  await ns?.cleanup();
});

describe('OpenSearch documents', () => {
  documentsContract(async () => ({
    documents: createOpenSearchDocuments(client),
    createStrictIndex: createIndex,
    createAliasedIndex: async () => {
      const name = await createIndex();
      await client.indices.putAlias({ index: name, name: `${name}-write` });
      return `${name}-write`;
    },
  }));
});

describe('writeDocs', () => {
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

  it('sends OpenSearch one op per document: the one that decides it (decision 68)', async () => {
    const own = await createIndex();
    const ops: DocOp[] = [1, 2, 3].flatMap((version) => [
      { op: 'index' as const, index: own, id: 'twice', version, doc: { name: `v${version}`, n: version } },
      { op: 'index' as const, index: own, id: `once-${version}`, version, doc: { name: 'once', n: version } },
    ]);
    ops.push({ op: 'delete', index: own, id: 'once-1', version: 2 });
    expect(await writeDocs(client, ops)).toEqual({ indexed: 3, deleted: 1, stale: 3 });
    const stats = await client.indices.stats({ index: own, metric: 'indexing' });
    const indexing = (stats.body as { _all: { primaries: { indexing: { index_total: number; delete_total: number } } } })._all.primaries.indexing;
    expect({ index: indexing.index_total, delete: indexing.delete_total }).toEqual({ index: 3, delete: 1 });
    expect(await createOpenSearchDocuments(client).get(own, 'twice')).toEqual({ version: 3, source: { name: 'v3', n: 3 } });
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

  it('a write that fails after part of it was applied says so (decision 59: a refresh may show that part); one that applied nothing does not', async () => {
    const good = (id: string): DocOp => ({ op: 'index', index, id, version: 1, doc: { name: id, n: 1 } });
    // The strict mapping refuses a field it does not know: the other items of the request are applied.
    const bad: DocOp = { op: 'index', index, id: 'p-bad', version: 1, doc: { name: 'bad', unknown: true } };
    const partly = await writeDocs(client, [good('p1'), bad, good('p2')]).catch((e: unknown) => e);
    expect(partlyApplied(partly)).toBe(true);
    expect((partly as Error).message).toMatch(/strict_dynamic_mapping_exception/);
    const none = await writeDocs(client, [bad]).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(AppError);
    expect(partlyApplied(none)).toBe(false);
    // An earlier request of the same call was applied: the later one's failure is partial too.
    const later = await writeDocs(client, [good('p3'), { ...bad, id: 'p-bad2' }], { maxBytes: 80 }).catch((e: unknown) => e);
    expect(partlyApplied(later)).toBe(true);
  });
});
