/**
 * The rebuild's parity check against real OpenSearch and Redis: the two generations' user
 * documents are read side by side in user-id order, over several pages, and any difference (a
 * changed document, one missing at the end, one too many) is reported; counters too.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { checkParity, type GenerationView } from '../../src/rebuild/parity.ts';
import { commitOf } from '../contract/account-state.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createTestOpenSearch, createTestRedis } from '../helpers/servers.ts';

let ns: TestNamespace;
let redis: Redis;
let opensearch: Client;

beforeAll(() => {
  ns = createTestNamespace();
  redis = createTestRedis();
  opensearch = createTestOpenSearch();
});
afterAll(async () => {
  await ns.cleanup();
  await redis.quit();
  await opensearch.close();
});

const USERS = 2_500; // more than two of readAccountUsers' pages of 1,000
const doc = (i: number) => ({ account_id: 'acc', user_id: `user-${String(i).padStart(5, '0')}`, display_name: `User ${i}`, entries: [] });

/** A generation: its account committed in Redis (with `counter` users counted), and `docs` indexed. */
async function generation(name: string, docs: object[], counter: number): Promise<GenerationView> {
  const store = createAccountStore(redis, { namespace: ns.prefix, generation: name });
  await store.commit(commitOf({ counterDeltas: new Map([['u|all|total', counter]]) }));
  const index = ns.index(`users-${name}`);
  await opensearch.indices.create({ index, body: { mappings: { properties: { account_id: { type: 'keyword' }, user_id: { type: 'keyword' } } } } });
  const body = docs.flatMap((d) => [{ index: { _index: index, _id: (d as { user_id: string }).user_id } }, d]);
  await opensearch.bulk({ body, refresh: true });
  return { store, usersIndex: index };
}

describe('checkParity', () => {
  it('holds for equal generations and names the account when documents or counters differ', async () => {
    const all = Array.from({ length: USERS }, (_, i) => doc(i));
    const live = await generation('live', all, USERS);
    expect(await checkParity(opensearch, live, await generation('same', all, USERS))).toEqual({ compared: 1, notCompared: [], differences: [] });

    const changed = all.map((d, i) => (i === 1_700 ? { ...d, display_name: 'Someone else' } : d));
    expect((await checkParity(opensearch, live, await generation('changed', changed, USERS))).differences).toEqual(['acc: user documents differ']);
    expect((await checkParity(opensearch, live, await generation('shorter', all.slice(0, -1), USERS))).differences).toEqual(['acc: user documents differ']);
    expect((await checkParity(opensearch, live, await generation('longer', [...all, doc(USERS)], USERS))).differences).toEqual(['acc: user documents differ']);
    expect((await checkParity(opensearch, live, await generation('counted', all, USERS + 1))).differences).toEqual([
      `acc: counter u|all|total: live ${USERS}, rebuilt ${USERS + 1}`,
    ]);
  });
});
