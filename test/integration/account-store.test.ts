/** The Redis account store: the account-state contract (test/contract/account-state.ts), and commits of any size. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEP } from '../../projections/index.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { accountStateContract, commitOf } from '../contract/account-state.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createTestRedis } from '../helpers/servers.ts';

let ns: TestNamespace;
let redis: Redis;
let generations = 0;

beforeAll(() => {
  ns = createTestNamespace();
  redis = createTestRedis();
});
afterAll(async () => {
  await redis.quit();
  await ns.cleanup();
});

const make = (options = {}) => createAccountStore(redis, { namespace: ns.prefix, generation: `g${(generations += 1)}` }, options);

describe('Redis account store', () => {
  accountStateContract(make);

  it('commits a batch of 150,000 users in one atomic step (no argument-size limit in the client)', async () => {
    const store = make();
    const n = 150_000;
    const changes = Array.from({ length: n }, (_, i) => ({
      key: `u${SEP}user-${i}`,
      value: JSON.stringify({ display_name: `User ${i}`, user_email: `u${i}@x.test`, user_access: 'active' }),
    }));
    const version = await store.commit(commitOf({ changes, dirtyUsers: changes.map((_, i) => `user-${i}`), counterDeltas: new Map([['u|all|total', 3]]) }));
    expect(version).toBe(1);
    const loaded = await store.load('acc', 7 * 86_400_000);
    expect(loaded.state.facts.users.size).toBe(n);
    expect(loaded.dirty.size).toBe(n);
    expect((await store.counters('acc')).get('u|all|total')).toBe(3);
  });

  it('a Redis that forgot its scripts (SCRIPT FLUSH, as after a restart) still runs the next commit, clear and publish: they are sent again', async () => {
    const store = make();
    expect(await store.commit(commitOf({ dirtyUsers: ['u1'], counterDeltas: new Map([['u|all|total', 2]]) }))).toBe(1);
    await redis.script('FLUSH');
    expect(await store.commit(commitOf({ expectedVersion: 1, lastOffset: 11n, counterDeltas: new Map([['u|all|total', 1]]) }))).toBe(2);
    await redis.script('FLUSH');
    await store.clearOutboxes([{ accountId: 'acc', version: 2, userIds: ['u1'], intervalIds: [] }]);
    await redis.script('FLUSH');
    await store.publishRefresh({ n: await store.beginRefresh(), seal: true, positions: new Map([['t:0', 11n]]), whole: [] });
    expect((await store.counters('acc')).get('u|all|total')).toBe(3);
    expect((await store.load('acc', 86_400_000)).dirty.size).toBe(0);
    expect(await store.positions()).toEqual(new Map([['t:0', 11n]]));
    expect(await store.sealedRefresh()).toBe(1);
  });
});
