/**
 * The account-state contract (src/ports/account-state.ts): what every implementation must do. Run
 * against the in-memory twin (test/unit/account-state-twin.test.ts) and the Redis adapter
 * (test/integration/account-store.test.ts). Each test gets a store of its own.
 */
import { describe, expect, it } from 'vitest';
import { SEP } from '../../projections/index.ts';
import type { AccountStateOptions, AccountStatePort, BatchCommit } from '../../src/ports/account-state.ts';

/** Makes an empty store (a fresh generation) with the given options. */
export type MakeAccountState = (options?: AccountStateOptions) => AccountStatePort;

const DAY = 86_400_000;

export const commitOf = (over: Partial<BatchCommit>): BatchCommit => ({
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

/** A user's fact change (name, email, access), as a commit carries it. */
export const userFact = (id: string, name: string) => ({ key: `u${SEP}${id}`, value: JSON.stringify({ display_name: name, user_email: `${id}@x.test`, user_access: 'active' }) });
/** The event that opened a raw fact, numbered `seq` (its offset too). */
export const openedBy = (seq: number) => ({
  event_id: `e${seq}`,
  type: 'user.upserted',
  topic: 't',
  partition: 0,
  offset: String(seq),
  time: '2026-03-01T00:00:00.000Z',
  time_ms: 1000,
  seq,
});
const intervalJson = (id: string) => [id, JSON.stringify({ account_id: 'x', fact_key: id })] as [string, string];

export function accountStateContract(make: MakeAccountState): void {
  describe('account-state contract', () => {
    it('loads what a commit wrote: facts, version, offset, remembered ids, outbox, raw facts and counters', async () => {
      const store = make();
      const from = openedBy(1);
      const version = await store.commit(
        commitOf({
          changes: [userFact('u1', 'Ana'), userFact('u2', 'Bo'), { key: `u${SEP}u2`, value: null }],
          seen: [{ id: 'e1', timeMs: 1000 }],
          counterDeltas: new Map([
            ['u|all|total', 2],
            ['q|all|inbox|q1', 1],
            ['i|voice|i1', 1],
          ]),
          dirtyUsers: ['u1', 'u2'],
          intervalJson: new Map([intervalJson('h1')]),
          rawChanges: new Map([[`u${SEP}u1`, { v: '{"display_name":"Ana"}', f: from }]]),
        }),
      );
      expect(version).toBe(1);
      const loaded = await store.load('acc', DAY);
      expect(loaded.version).toBe(1);
      expect([...loaded.state.facts.users.keys()]).toEqual(['u1']);
      expect(loaded.state.seen).toEqual({ ids: new Map([['e1', 1000]]), newestMs: 1000 });
      expect(loaded.offsets).toEqual(new Map([['topic:0', 10n]]));
      expect(await store.appliedOffsets('acc')).toEqual(new Map([['topic:0', 10n]]));
      expect(await store.version('acc')).toBe(1);
      expect(loaded.dirty).toEqual(
        new Map([
          ['u1', 1],
          ['u2', 1],
        ]),
      );
      expect(loaded.intervalOutbox).toEqual(new Map([['h1', { version: 1, json: JSON.stringify({ account_id: 'x', fact_key: 'h1' }) }]]));
      expect(loaded.raw.values.get(`u${SEP}u1`)).toBe('{"display_name":"Ana"}');
      expect(loaded.raw.opened.get(`u${SEP}u1`)).toEqual(from);
      expect(await store.counters('acc')).toEqual(
        new Map([
          ['u|all|total', 2],
          ['q|all|inbox|q1', 1],
          ['i|voice|i1', 1],
        ]),
      );
      expect(await store.accounts()).toEqual(['acc']);
      expect(await store.dirtyAccounts()).toEqual(['acc']);
    });

    it('keeps names in any script exactly, in short values and long ones (facts, fact intervals, raw facts)', async () => {
      const store = make();
      const names = ['Łukasz', 'Δημήτρης Παπαδόπουλος-Οικονόμου του Γεωργίου', 'Дмитрий', 'José 😀 Müller', 'a'.repeat(70) + '€'];
      const from = openedBy(1);
      await store.commit(
        commitOf({
          changes: names.map((name, i) => userFact(`u${i}`, name)),
          intervalJson: new Map(names.map((name, i) => [`h${i}`, JSON.stringify({ account_id: 'x', value: name })])),
          rawChanges: new Map(names.map((name, i) => [`u${SEP}u${i}`, { v: JSON.stringify({ display_name: name }), f: from }])),
        }),
      );
      const loaded = await store.load('acc', DAY);
      expect(names.map((_, i) => loaded.state.facts.users.get(`u${i}`)?.display_name)).toEqual(names);
      expect(names.map((_, i) => loaded.intervalOutbox.get(`h${i}`)?.json)).toEqual(names.map((name) => JSON.stringify({ account_id: 'x', value: name })));
      expect(names.map((_, i) => loaded.raw.values.get(`u${SEP}u${i}`))).toEqual(names.map((name) => JSON.stringify({ display_name: name })));
    });

    it('reads in pieces what load reads whole: facts, raw facts, version and the dirty users', async () => {
      const store = make({ pieceSize: 3 });
      const users = Array.from({ length: 20 }, (_, i) => userFact(`u${i}`, `User ${i}`));
      await store.commit(commitOf({ changes: users, dirtyUsers: ['u1', 'u2'], rawChanges: new Map(users.map((u, i) => [u.key, { v: u.value, f: openedBy(i) }])) }));
      await store.commit(commitOf({ expectedVersion: 1, lastOffset: 11n, changes: [{ key: `u${SEP}u3`, value: null }], rawChanges: new Map([[`u${SEP}u3`, null]]) }));
      const read = await store.readFacts('acc');
      const loaded = await store.load('acc', DAY);
      expect(read).not.toBeNull();
      expect(read!.facts.users.size).toBe(19);
      expect(read!.facts).toEqual(loaded.state.facts);
      expect(read!.raw).toEqual(loaded.raw);
      expect(read!.raw.values.size).toBe(19);
      expect(read!.version).toBe(2);
      expect(read!.dirtyUsers).toBe(2);
      expect(await store.readFacts('never')).toEqual({
        facts: (await store.load('never', DAY)).state.facts,
        raw: { values: new Map(), opened: new Map() },
        version: 0,
        dirtyUsers: 0,
      });
    });

    it('an account never written loads empty at version 0', async () => {
      const loaded = await make().load('nobody', DAY);
      expect([loaded.version, loaded.offsets.size, loaded.dirty.size, loaded.intervalOutbox.size, loaded.state.facts.users.size]).toEqual([0, 0, 0, 0, 0]);
      expect(loaded.state.seen.newestMs).toBe(Number.NEGATIVE_INFINITY);
    });

    it('what load returns shares nothing with the store', async () => {
      const store = make();
      await store.commit(commitOf({ changes: [userFact('u1', 'Ana')], dirtyUsers: ['u1'] }));
      const first = await store.load('acc', DAY);
      first.state.facts.users.clear();
      first.dirty.clear();
      first.offsets.clear();
      const again = await store.load('acc', DAY);
      expect([again.state.facts.users.size, again.dirty.size, again.offsets.size]).toEqual([1, 1, 1]);
    });

    it('refuses a commit computed from an older version, and writes nothing of it', async () => {
      const store = make();
      await store.commit(commitOf({ counterDeltas: new Map([['u|all|total', 3]]) }));
      const stale = await store.commit(commitOf({ lastOffset: 11n, changes: [userFact('late', 'Late')], counterDeltas: new Map([['u|all|total', 100]]) }));
      expect(stale).toBeNull();
      const loaded = await store.load('acc', DAY);
      expect(loaded.version).toBe(1);
      expect(loaded.state.facts.users.has('late')).toBe(false);
      expect(loaded.offsets.get('topic:0')).toBe(10n);
      expect((await store.counters('acc')).get('u|all|total')).toBe(3);
    });

    it('refuses to apply an offset of a partition twice (a redelivered batch), but takes other partitions', async () => {
      const store = make();
      await store.commit(commitOf({ counterDeltas: new Map([['u|all|total', 3]]) }));
      expect(await store.commit(commitOf({ expectedVersion: 1, lastOffset: 10n, counterDeltas: new Map([['u|all|total', 1]]) }))).toBeNull();
      expect(await store.commit(commitOf({ expectedVersion: 1, lastOffset: 9n }))).toBeNull();
      expect(await store.commit(commitOf({ expectedVersion: 1, partition: 'other:0', lastOffset: 5n, counterDeltas: new Map([['u|all|total', 1]]) }))).toBe(2);
      expect((await store.counters('acc')).get('u|all|total')).toBe(4);
      expect(await store.appliedOffsets('acc')).toEqual(
        new Map([
          ['topic:0', 10n],
          ['other:0', 5n],
        ]),
      );
    });

    it('drops a counter that falls to zero', async () => {
      const store = make();
      await store.commit(
        commitOf({
          counterDeltas: new Map([
            ['u|all|total', 2],
            ['u|all|inbox', 1],
          ]),
        }),
      );
      await store.commit(commitOf({ expectedVersion: 1, lastOffset: 11n, counterDeltas: new Map([['u|all|total', -2]]) }));
      expect(await store.counters('acc')).toEqual(new Map([['u|all|inbox', 1]]));
    });

    it('loads the remembered ids within twice the window of the newest, and forgets those before the prune horizon', async () => {
      const store = make();
      await store.commit(
        commitOf({
          seen: [
            { id: 'old', timeMs: 1_000 },
            { id: 'mid', timeMs: 50_000 },
            { id: 'new', timeMs: 100_000 },
          ],
          newestMs: 100_000,
        }),
      );
      expect([...(await store.load('acc', 30_000)).state.seen.ids.keys()].sort()).toEqual(['mid', 'new']);
      expect([...(await store.load('acc', 60_000)).state.seen.ids.keys()].sort()).toEqual(['mid', 'new', 'old']);
      await store.commit(commitOf({ expectedVersion: 1, lastOffset: 11n, newestMs: 100_000, pruneBeforeMs: 50_000 }));
      expect([...(await store.load('acc', 60_000)).state.seen.ids.keys()].sort()).toEqual(['mid', 'new']);
    });

    it('clears only the outbox entries written at or before their version', async () => {
      const store = make();
      await store.commit(commitOf({ dirtyUsers: ['user-1', 'user-2'] }));
      await store.clearOutboxes([{ accountId: 'acc', version: 1, userIds: ['user-1'], intervalIds: [] }]);
      expect(await store.commit(commitOf({ expectedVersion: 1, lastOffset: 12n, dirtyUsers: ['user-3', 'user-2'] }))).toBe(2);
      await store.clearOutboxes([{ accountId: 'acc', version: 1, userIds: ['user-2', 'user-3'], intervalIds: [] }]);
      const loaded = await store.load('acc', DAY);
      expect(loaded.dirty).toEqual(
        new Map([
          ['user-2', 2],
          ['user-3', 2],
        ]),
      );
    });

    it('clears the outboxes of many accounts at once; an account leaves the dirty set only when both its outboxes are empty', async () => {
      const store = make();
      const a = await store.commit(commitOf({ accountId: 'many-a', lastOffset: 1n, dirtyUsers: ['u1', 'u2'], intervalJson: new Map([intervalJson('h1'), intervalJson('h2')]) }));
      const b = await store.commit(commitOf({ accountId: 'many-b', lastOffset: 1n, dirtyUsers: ['u1'], intervalJson: new Map([intervalJson('h1')]) }));
      expect([a, b]).toEqual([1, 1]);
      expect((await store.dirtyAccounts()).sort()).toEqual(['many-a', 'many-b']);

      await store.clearOutboxes([
        { accountId: 'many-a', version: 1, userIds: ['u1', 'u2'], intervalIds: ['h1', 'h2'] },
        { accountId: 'many-b', version: 1, userIds: ['u1'], intervalIds: [] },
      ]);
      expect(await store.dirtyAccounts()).toEqual(['many-b']);
      const [la, lb] = [await store.load('many-a', DAY), await store.load('many-b', DAY)];
      expect([la.dirty.size, la.intervalOutbox.size]).toEqual([0, 0]);
      expect([lb.dirty.size, [...lb.intervalOutbox.keys()]]).toEqual([0, ['h1']]);

      // A confirmation of an older version does not clear what a newer commit put back.
      await store.commit(commitOf({ accountId: 'many-b', expectedVersion: 1, lastOffset: 2n, intervalJson: new Map([intervalJson('h1')]) }));
      await store.clearOutboxes([{ accountId: 'many-b', version: 1, userIds: [], intervalIds: ['h1'] }]);
      expect([...(await store.load('many-b', DAY)).intervalOutbox.keys()]).toEqual(['h1']);
      expect(await store.dirtyAccounts()).toEqual(['many-b']);
      await store.clearOutboxes([{ accountId: 'many-b', version: 2, userIds: [], intervalIds: ['h1'] }]);
      expect(await store.dirtyAccounts()).toEqual([]);
    });

    it('raises positions, never lowers them', async () => {
      const store = make();
      await store.raisePositions(
        new Map([
          ['t:0', 5n],
          ['t:1', 3n],
        ]),
      );
      await store.raisePositions(
        new Map([
          ['t:0', 4n],
          ['t:1', 7n],
        ]),
      );
      expect(await store.positions()).toEqual(
        new Map([
          ['t:0', 5n],
          ['t:1', 7n],
        ]),
      );
    });

    it("raises accounts' own searchable positions, never lowers them, and keeps them apart from the generation's and the applied offsets", async () => {
      const store = make();
      await store.raiseAccountPositions(
        new Map([
          ['acc-a', new Map([['t:0', 5n]])],
          [
            'acc-b',
            new Map([
              ['t:0', 2n],
              ['t:1', 9n],
            ]),
          ],
        ]),
      );
      await store.raiseAccountPositions(
        new Map([
          [
            'acc-a',
            new Map([
              ['t:0', 4n],
              ['t:1', 1n],
            ]),
          ],
        ]),
      );
      expect(await store.accountPositions('acc-a')).toEqual(
        new Map([
          ['t:0', 5n],
          ['t:1', 1n],
        ]),
      );
      expect(await store.accountPositions('acc-b')).toEqual(
        new Map([
          ['t:0', 2n],
          ['t:1', 9n],
        ]),
      );
      expect(await store.accountPositions('acc-c')).toEqual(new Map());
      expect(await store.positions()).toEqual(new Map());
      expect(await store.appliedOffsets('acc-a')).toEqual(new Map());
    });

    it('raises applied positions only where the range continues its partition; a gap raises nothing and throws', async () => {
      const store = make();
      await store.raiseApplied(new Map([['t:0', { from: 0n, to: 9n }]]));
      await store.raiseApplied(new Map([['t:0', { from: 5n, to: 8n }]]));
      expect(await store.applied()).toEqual(new Map([['t:0', 9n]]));
      const gap = store.raiseApplied(
        new Map([
          ['t:0', { from: 10n, to: 12n }],
          ['t:1', { from: 3n, to: 4n }],
        ]),
      );
      await expect(gap).rejects.toMatchObject({ code: 'store_conflict', retriable: true, message: expect.stringContaining('t:1') });
      expect(await store.applied()).toEqual(new Map([['t:0', 9n]]));
    });

    it('numbers refreshes one after another', async () => {
      const store = make();
      expect([await store.beginRefresh(), await store.beginRefresh(), await store.beginRefresh()]).toEqual([1, 2, 3]);
    });

    it('a sealed refresh number only goes up, and none is sealed at first', async () => {
      const store = make();
      expect(await store.sealedRefresh()).toBe(0);
      await store.sealRefresh(3);
      await store.sealRefresh(2);
      expect(await store.sealedRefresh()).toBe(3);
      await store.sealRefresh(5);
      expect(await store.sealedRefresh()).toBe(5);
    });

    it('the fence runs before every load, read, commit and applied raise: when it throws, nothing is read or written', async () => {
      let closed = false;
      const store = make({
        fence: () => {
          if (closed) throw new Error('fenced');
        },
      });
      await store.commit(commitOf({ counterDeltas: new Map([['u|all|total', 1]]) }));
      closed = true;
      await expect(store.load('acc', DAY)).rejects.toThrow('fenced');
      await expect(store.readFacts('acc')).rejects.toThrow('fenced');
      await expect(store.commit(commitOf({ expectedVersion: 1, lastOffset: 11n, counterDeltas: new Map([['u|all|total', 1]]) }))).rejects.toThrow('fenced');
      await expect(store.raiseApplied(new Map([['t:0', { from: 0n, to: 1n }]]))).rejects.toThrow('fenced');
      closed = false;
      expect(await store.version('acc')).toBe(1);
      expect((await store.counters('acc')).get('u|all|total')).toBe(1);
      expect(await store.applied()).toEqual(new Map());
    });
  });
}
