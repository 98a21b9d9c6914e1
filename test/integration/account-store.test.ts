/** The Redis account store: the account-state contract (test/contract/account-state.ts), and commits of any size. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEP } from '../../projections/index.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { accountStateContract, commitOf, openedBy, userFact } from '../contract/account-state.ts';
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
    const users = Array.from({ length: 60 }, (_, i) => userFact(`user-${i}`, `User ${i}`));
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

  describe('load in pieces (decision 70)', () => {
    const DAY = 86_400_000;
    const userChange = (i: number, name = `User ${i}`) => userFact(`user-${i}`, name);
    const rawOf = (changes: { key: string; value: string | null }[], seq: number) =>
      new Map(changes.map((c) => [c.key, c.value === null ? null : { v: c.value, f: openedBy(seq) }]));

    /** An account of 60 users with raw facts, dirty users, an outbox and remembered ids, committed at version 1. */
    async function seeded(): Promise<{ space: { namespace: string; generation: string } }> {
      const space = { namespace: ns.prefix, generation: `g${(generations += 1)}` };
      const changes = Array.from({ length: 60 }, (_, i) => userChange(i));
      await createAccountStore(redis, space).commit(
        commitOf({
          changes,
          rawChanges: rawOf(changes, 1),
          dirtyUsers: ['user-1', 'user-2'],
          intervalJson: new Map([['iv-1', JSON.stringify({ account_id: 'acc', fact_key: 'iv-1' })]]),
          seen: [{ id: 'e1', timeMs: 1000 }],
        }),
      );
      return { space };
    }

    it('reads in pieces exactly what one MULTI reads whole: facts, raw facts, version, offsets, dirty users, outbox, remembered ids', async () => {
      const { space } = await seeded();
      const pieced = await createAccountStore(redis, space, { pieceSize: 5 }).load('acc', DAY);
      const whole = await createAccountStore(redis, space, { pieceSize: 0 }).load('acc', DAY);
      expect(pieced).toEqual(whole);
      expect(pieced.state.facts.users.size).toBe(60);
      expect(pieced.raw.values.size).toBe(60);
      expect([...pieced.dirty.keys()].sort()).toEqual(['user-1', 'user-2']);
      expect([...pieced.intervalOutbox.keys()]).toEqual(['iv-1']);
      expect([...pieced.state.seen.ids.keys()]).toEqual(['e1']);
      expect(pieced.offsets.get('topic:0')).toBe(10n);
    });

    it('commits from another connection between the pieces never make a mix of two versions: the load gives the last one whole', async () => {
      const { space } = await seeded();
      const other = createTestRedis();
      await other.ping();
      const writer = createAccountStore(other, space);
      let fences = 0;
      let version = 1;
      const commits: Promise<number | null>[] = [];
      // Every tenth fence (one per piece, more than ten per read), up to four commits: each renames a user and drops another.
      const reader = createAccountStore(redis, space, {
        pieceSize: 5,
        fence: () => {
          if (++fences % 10 !== 3 || commits.length === 4) return;
          const n = commits.length;
          const changes = [userChange(10 + n, `Renamed ${n}`), { key: `u${SEP}user-${20 + n}`, value: null }];
          commits.push(
            writer.commit(commitOf({ expectedVersion: version, lastOffset: BigInt(11 + n), changes, rawChanges: rawOf(changes, 2 + n), dirtyUsers: [`user-${10 + n}`] })),
          );
          version += 1;
        },
      });
      try {
        const loaded = await reader.load('acc', DAY);
        const settled = await Promise.all(commits);
        expect(settled.length).toBeGreaterThan(0);
        expect(settled).toEqual(settled.map((_, i) => i + 2));
        // What the store holds now, read whole and at rest: the load above is that version, whole.
        const atRest = await createAccountStore(redis, space, { pieceSize: 0 }).load('acc', DAY);
        expect(loaded.version).toBe(atRest.version);
        expect(loaded).toEqual(atRest);
        expect(loaded.state.facts.users.size).toBe(60 - settled.length);
      } finally {
        await other.quit();
      }
    });
  });
});
