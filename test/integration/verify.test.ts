/**
 * `verify` on real Redis and OpenSearch: what it finds wrong between an account's raw facts, its
 * facts and the fact intervals the index holds, whatever the number of intervals the account holds
 * open (they are looked up a piece at a time).
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenSearchDocuments } from '../../src/opensearch/documents.ts';
import { ensureTemplates, factsIndex, refreshIndices, usersIndex } from '../../src/opensearch/indices.ts';
import { factRecord, factRecordId } from '../../src/records/fact-intervals.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { type VerifyDeps, verifyAccount } from '../../src/verify.ts';
import { commitOf, openedBy, userFact } from '../contract/account-state.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createTestOpenSearch, createTestRedis } from '../helpers/servers.ts';

let ns: TestNamespace;
let redis: Redis;
let opensearch: Client;
let generations = 0;

beforeAll(async () => {
  ns = createTestNamespace();
  redis = createTestRedis();
  opensearch = createTestOpenSearch();
  await ensureTemplates(opensearch, { namespace: ns.prefix });
});
afterAll(async () => {
  await redis.quit();
  await opensearch.close();
  await ns.cleanup();
});

/** A generation whose account `acc` holds these users as facts and, each opened by its own event, as raw facts; its indices exist, empty. */
async function account(users: { key: string; value: string }[], raw = users): Promise<VerifyDeps & { factsIndex: string }> {
  const generation = `g${(generations += 1)}`;
  const store = createAccountStore(redis, { namespace: ns.prefix, generation });
  await store.commit(commitOf({ changes: users, rawChanges: new Map(raw.map((u, i) => [u.key, { v: u.value, f: openedBy(i + 1) }])) }));
  const deps = { store, opensearch, index: usersIndex(ns.prefix, generation), factsIndex: factsIndex(ns.prefix, generation), windowMs: 7 * 86_400_000 };
  for (const index of [deps.index, deps.factsIndex]) await opensearch.indices.create({ index });
  return deps;
}

describe('verify', () => {
  it('names every interval Redis holds open that the index holds closed, in any piece of the account, and not one an earlier application closed', async () => {
    // More than two pieces of the ids looked up at once (5,000).
    const users = Array.from({ length: 12_345 }, (_, i) => userFact(`user-${i}`, `User ${i}`));
    const deps = await account(users);
    const closing = openedBy(20_000);
    const closed = (i: number, seq = i + 1) => {
      const from = { ...openedBy(i + 1), seq };
      return {
        op: 'index' as const,
        index: deps.factsIndex,
        id: factRecordId('acc', users[i]!.key, from),
        version: 1,
        doc: JSON.stringify(factRecord('acc', users[i]!.key, users[i]!.value, from, closing)),
      };
    };
    // Closed in the index while open in Redis: in the first piece, the second and the last. The
    // fourth is a closed record of the same event applied earlier (another seq): not wrong.
    await createOpenSearchDocuments(opensearch).write([closed(0), closed(6_000), closed(12_344), closed(3_000, 99_999_999)], { versionOffset: 0 });
    await refreshIndices(opensearch, deps.factsIndex);

    const report = await verifyAccount(deps, 'acc');
    // In no particular order: the raw facts are read from Redis in pieces.
    expect(report.differences.filter((d) => d.endsWith('open in Redis, closed in the index')).sort()).toEqual(
      [0, 6_000, 12_344].map((i) => `fact ${JSON.stringify(users[i]!.key)}: open in Redis, closed in the index`).sort(),
    );
    // The index holds no user document: every user is named as missing, nothing else is wrong.
    expect(report.differences.filter((d) => !d.endsWith('closed in the index') && !d.endsWith('missing from the index'))).toEqual([]);
    expect(report.users).toBe(12_345);
  });

  it('names a user whose raw facts give another document than its facts', async () => {
    const users = [userFact('ann', 'Ann'), userFact('bob', 'Bob')];
    const deps = await account(users, [users[0]!, userFact('bob', 'Robert')]);
    const report = await verifyAccount(deps, 'acc');
    expect(report.differences.filter((d) => d.includes('raw facts'))).toEqual(['user bob: the raw facts give another document than the facts']);
  });
});
