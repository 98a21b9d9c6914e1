import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { SEP } from '../../projections/index.ts';
import { type AccountStore, type BatchCommit, createAccountStore } from '../../src/redis/account-store.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createTestRedis } from '../helpers/servers.ts';

/** The Redis account store on its own: atomic, fenced commits of any size. */
describe('account store', () => {
  let ns: TestNamespace;
  let redis: Redis;
  let store: AccountStore;

  beforeAll(() => {
    ns = createTestNamespace();
    redis = createTestRedis();
    store = createAccountStore(redis, { namespace: ns.prefix, generation: 'g1' });
  });
  afterAll(async () => {
    await redis.quit();
    await ns.cleanup();
  });

  const commit = (over: Partial<BatchCommit>): BatchCommit => ({
    accountId: 'acc',
    expectedVersion: 0,
    partition: 'topic:0',
    lastOffset: 10n,
    changes: [],
    seen: [],
    newestMs: 1000,
    pruneBeforeMs: -1e301,
    counterDeltas: new Map(),
    dirtyUsers: [],
    intervalJson: new Map(),
    rawChanges: new Map(),
    ...over,
  });

  it('commits a batch of 150,000 users in one atomic step (no argument-size limit in the client)', async () => {
    const n = 150_000;
    const changes = Array.from({ length: n }, (_, i) => ({
      key: `u${SEP}user-${i}`,
      value: JSON.stringify({ display_name: `User ${i}`, user_email: `u${i}@x.test`, user_access: 'active' }),
    }));
    const version = await store.commit(commit({ changes, dirtyUsers: changes.map((_, i) => `user-${i}`), counterDeltas: new Map([['u|all|total', 3]]) }));
    expect(version).toBe(1);
    const loaded = await store.load('acc', 7 * 86_400_000);
    expect(loaded.state.facts.users.size).toBe(n);
    expect(loaded.dirty.size).toBe(n);
    expect(loaded.offsets.get('topic:0')).toBe(10n);
    expect((await store.counters('acc')).get('u|all|total')).toBe(3);
  });

  it('refuses a commit computed from an older version, and writes nothing of it', async () => {
    const stale = await store.commit(
      commit({ expectedVersion: 0, lastOffset: 11n, changes: [{ key: `u${SEP}late`, value: '{}' }], counterDeltas: new Map([['u|all|total', 100]]) }),
    );
    expect(stale).toBeNull();
    const loaded = await store.load('acc', 7 * 86_400_000);
    expect(loaded.version).toBe(1);
    expect(loaded.state.facts.users.has('late')).toBe(false);
    expect((await store.counters('acc')).get('u|all|total')).toBe(3);
  });

  it('refuses to apply an offset of a partition twice (a redelivered batch)', async () => {
    const again = await store.commit(commit({ expectedVersion: 1, lastOffset: 10n, counterDeltas: new Map([['u|all|total', 1]]) }));
    expect(again).toBeNull();
    expect((await store.counters('acc')).get('u|all|total')).toBe(3);
  });

  it('clears only the outbox entries written at or after their version', async () => {
    await store.clearOutboxes([{ accountId: 'acc', version: 1, userIds: ['user-1', 'user-2'], intervalIds: [] }]);
    const v2 = await store.commit(commit({ expectedVersion: 1, lastOffset: 12n, dirtyUsers: ['user-3'] }));
    expect(v2).toBe(2);
    await store.clearOutboxes([{ accountId: 'acc', version: 1, userIds: ['user-3'], intervalIds: [] }]);
    const loaded = await store.load('acc', 7 * 86_400_000);
    expect(loaded.dirty.has('user-1')).toBe(false);
    expect(loaded.dirty.get('user-3')).toBe(2);
  });

  it('clears the outboxes of many accounts at once; an account leaves the dirty set only when both its outboxes are empty', async () => {
    const record = (id: string) => [id, JSON.stringify({ account_id: 'x', fact_key: id })] as [string, string];
    const a = await store.commit(commit({ accountId: 'many-a', lastOffset: 1n, dirtyUsers: ['u1', 'u2'], intervalJson: new Map([record('h1'), record('h2')]) }));
    const b = await store.commit(commit({ accountId: 'many-b', lastOffset: 1n, dirtyUsers: ['u1'], intervalJson: new Map([record('h1')]) }));
    expect([a, b]).toEqual([1, 1]);
    expect(await store.dirtyAccounts()).toEqual(expect.arrayContaining(['many-a', 'many-b']));

    await store.clearOutboxes([
      { accountId: 'many-a', version: 1, userIds: ['u1', 'u2'], intervalIds: ['h1', 'h2'] },
      { accountId: 'many-b', version: 1, userIds: ['u1'], intervalIds: [] },
    ]);
    const dirty = await store.dirtyAccounts();
    expect(dirty).not.toContain('many-a');
    expect(dirty).toContain('many-b');
    const [la, lb] = [await store.load('many-a', 86_400_000), await store.load('many-b', 86_400_000)];
    expect([la.dirty.size, la.intervalOutbox.size]).toEqual([0, 0]);
    expect([lb.dirty.size, [...lb.intervalOutbox.keys()]]).toEqual([0, ['h1']]);
    expect(lb.intervalOutbox.get('h1')).toEqual({ version: 1, record: { account_id: 'x', fact_key: 'h1' } });

    // A confirmation of an older version does not clear what a newer commit put back.
    await store.commit(commit({ accountId: 'many-b', expectedVersion: 1, lastOffset: 2n, intervalJson: new Map([record('h1')]) }));
    await store.clearOutboxes([{ accountId: 'many-b', version: 1, userIds: [], intervalIds: ['h1'] }]);
    expect([...(await store.load('many-b', 86_400_000)).intervalOutbox.keys()]).toEqual(['h1']);
    await store.clearOutboxes([{ accountId: 'many-b', version: 2, userIds: [], intervalIds: ['h1'] }]);
    expect(await store.dirtyAccounts()).not.toContain('many-b');
  });
});
