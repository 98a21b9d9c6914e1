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

  it('a commit between the pieces of a read makes it null (read whole instead), never a mix of two versions', async () => {
    const space = { namespace: ns.prefix, generation: `g${(generations += 1)}` };
    const writer = createAccountStore(redis, space);
    const users = Array.from({ length: 60 }, (_, i) => ({
      key: `u${SEP}user-${i}`,
      value: JSON.stringify({ display_name: `User ${i}`, user_email: `u${i}@x.test`, user_access: 'active' }),
    }));
    await writer.commit(commitOf({ changes: users }));
    // The fence runs before each piece: on the third, another connection commits, before the next piece is asked for.
    const other = createTestRedis();
    await other.ping();
    let pieces = 0;
    let committed: Promise<number | null> | undefined;
    const reader = createAccountStore(redis, space, {
      pieceSize: 5,
      fence: () => {
        if (++pieces === 3)
          committed = createAccountStore(other, space).commit(commitOf({ expectedVersion: 1, lastOffset: 11n, changes: [{ key: `u${SEP}user-0`, value: null }] }));
      },
    });
    try {
      const read = await reader.readFacts('acc');
      expect(await committed).toBe(2);
      expect(pieces).toBeGreaterThan(4);
      expect(read).toBeNull();
      const again = await reader.readFacts('acc');
      expect(again?.version).toBe(2);
      expect(again?.facts.users.size).toBe(59);
    } finally {
      await other.quit();
    }
  });
});
