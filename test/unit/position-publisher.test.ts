import type { Client } from '@opensearch-project/opensearch';
import { describe, expect, it } from 'vitest';
import { IntegrityFault } from '../../src/integrity/fault.ts';
import { silentLogger } from '../../src/logger.ts';
import { createPositionPublisher } from '../../src/projector/positions.ts';
import { type TornAccounts, createTornAccounts } from '../../src/projector/torn-accounts.ts';
import { createAccountStateTwin } from '../../src/twins/account-state.ts';

/**
 * The publisher against the account-state twin and an OpenSearch client that answers only the
 * refresh, each refresh held until the test lets it finish (or fail): the moment a rollback repair
 * can begin while a publish is under way.
 */
function setup(torn?: TornAccounts) {
  const store = createAccountStateTwin();
  const refreshes: { finish: () => void; fail: (error: Error) => void }[] = [];
  const opensearch = {
    indices: {
      refresh: () =>
        new Promise((resolve, reject) =>
          refreshes.push({
            finish: () => resolve({ body: { _shards: { total: 1, successful: 1, failed: 0 } } }),
            fail: reject,
          }),
        ),
    },
  } as unknown as Client;
  const publisher = createPositionPublisher({ opensearch, index: () => 'users', store, intervalMs: 10, logger: silentLogger(), ...(torn ? { torn } : {}) });
  /** resolves once the publish under way waits in its refresh */
  const refreshing = async (n: number) => {
    while (refreshes.length < n) await new Promise((r) => setTimeout(r, 1));
    return refreshes[n - 1]!;
  };
  /** One publish whose refresh finishes (the n-th refresh of the setup). */
  const published = async (n: number) => {
    const publish = publisher.flush();
    (await refreshing(n)).finish();
    await publish;
  };
  return { store, publisher, refreshing, published };
}

describe('the position publisher and a discard (the rollback repair)', () => {
  it('publishes what was marked once its refresh is done', async () => {
    const { store, publisher, published } = setup();
    publisher.mark('access.roles.v1:0', 41n, 0);
    publisher.markAccounts(new Map([['acc_a', new Map([['access.roles.v1:0', 41n]])]]));
    await published(1);
    expect(await store.positions()).toEqual(new Map([['access.roles.v1:0', 41n]]));
    expect(await store.accountPositions('acc_a')).toEqual(new Map([['access.roles.v1:0', 41n]]));
  });

  it('does not raise a position marked before a discard that came while its refresh ran', async () => {
    const { store, publisher, refreshing } = setup();
    publisher.mark('access.roles.v1:0', 41n, 0);
    publisher.markAccounts(new Map([['acc_a', new Map([['access.roles.v1:0', 41n]])]]));
    const publish = publisher.flush();
    const refresh = await refreshing(1);
    // Redis came back older: the writes up to 41 may be undone, the repair lowers the positions.
    publisher.discard();
    refresh.finish();
    await publish;
    expect(await store.positions()).toEqual(new Map());
    expect(await store.accountPositions('acc_a')).toEqual(new Map());
  });

  it('leaves in the outbox the fact intervals marked before a discard that came while its refresh ran', async () => {
    const { store, publisher, refreshing } = setup();
    const version = await store.commit({
      accountId: 'acc_a',
      expectedVersion: 0,
      partition: 'access.roles.v1:0',
      lastOffset: 41n,
      changes: [],
      seen: [],
      newestMs: 0,
      pruneBeforeMs: -1e301,
      counterDeltas: new Map(),
      dirtyUsers: [],
      intervalJson: new Map([['iv_1', '{"user_id":"u_1"}']]),
      rawChanges: new Map(),
    });
    publisher.markIntervals([{ accountId: 'acc_a', version: version!, userIds: [], intervalIds: ['iv_1'] }]);
    const publish = publisher.flush();
    const refresh = await refreshing(1);
    publisher.discard();
    refresh.finish();
    await publish;
    // Still owed to the index: the next load of the account writes it again.
    expect(await store.dirtyAccounts()).toEqual(['acc_a']);
  });

  it('does not put back what a publish failed to publish when a discard came meanwhile', async () => {
    const { store, publisher, refreshing, published } = setup();
    publisher.mark('access.roles.v1:0', 41n, 0);
    const publish = publisher.flush();
    const refresh = await refreshing(1);
    publisher.discard();
    refresh.fail(new Error('OpenSearch unreachable'));
    await expect(publish).rejects.toThrow('OpenSearch unreachable');
    // After the repair, the replay marks again from where Redis stands: only that is published.
    publisher.mark('access.roles.v1:1', 7n, 0);
    await published(2);
    expect(await store.positions()).toEqual(new Map([['access.roles.v1:1', 7n]]));
  });

  it('puts back what a failed publish held when no discard came, and publishes it next time', async () => {
    const { store, publisher, refreshing, published } = setup();
    publisher.mark('access.roles.v1:0', 41n, 0);
    const publish = publisher.flush();
    (await refreshing(1)).fail(new Error('OpenSearch unreachable'));
    await expect(publish).rejects.toThrow('OpenSearch unreachable');
    await published(2);
    expect(await store.positions()).toEqual(new Map([['access.roles.v1:0', 41n]]));
  });
});

describe('the position publisher and the accounts a refresh may show part-written (decision 59)', () => {
  it('marks them in the step that starts the refresh, lifts them with the end of the first refresh after they are whole, and refreshes for a lift alone', async () => {
    const torn = createTornAccounts();
    const { store, publisher, refreshing, published } = setup(torn);
    torn.begin(new Map([['acc_big', 2]]));
    publisher.mark('access.roles.v1:2', 7n, 0);
    const first = publisher.flush();
    const refresh = await refreshing(1);
    // Marked before the refresh shows anything: a reader that sees this refresh's number sees the mark.
    expect(await store.tornAccounts()).toEqual(new Map([['acc_big', 2]]));
    refresh.finish();
    await first;
    // The round ends whole; nothing else is pending, but the mark waits to be lifted.
    torn.end(new Map([['acc_big', 2]]), true);
    await published(2);
    expect(await store.tornAccounts()).toEqual(new Map());
    // Nothing pending and nothing to lift: no refresh (one would wait here for ever).
    expect(torn.due()).toBe(false);
    await publisher.flush();
  });

  it('a failed publish keeps the mark it set, and lifts it at the next one', async () => {
    const torn = createTornAccounts();
    const { store, publisher, refreshing, published } = setup(torn);
    torn.begin(new Map([['acc_big', 0]]));
    publisher.mark('access.roles.v1:0', 3n, 0);
    const first = publisher.flush();
    (await refreshing(1)).fail(new Error('connect ECONNREFUSED 127.0.0.1:9200'));
    await expect(first).rejects.toThrow('ECONNREFUSED');
    expect(await store.tornAccounts()).toEqual(new Map([['acc_big', 0]]));
    torn.end(new Map([['acc_big', 0]]), true);
    await published(2);
    expect(await store.tornAccounts()).toEqual(new Map());
  });

  it('an account a failed write left torn is lifted once Redis holds none of its outbox, with nothing else to publish', async () => {
    const torn = createTornAccounts();
    const { store, publisher, published } = setup(torn);
    // Redis says what is still to write (the twin's own set is filled by commits).
    const dirty = new Set(['acc_big']);
    store.dirtyAmong = async (ids) => new Set(ids.filter((id) => dirty.has(id)));
    torn.broke(new Map([['acc_big', 1]]));
    publisher.mark('access.roles.v1:1', 5n, 0);
    await published(1);
    expect(await store.tornAccounts()).toEqual(new Map([['acc_big', 1]]));
    // Still to write: nothing to publish, no refresh (one would wait here for ever), still marked.
    await publisher.flush();
    expect(await store.tornAccounts()).toEqual(new Map([['acc_big', 1]]));
    // Its outbox is written (by whichever round): the next publish lifts the mark.
    dirty.clear();
    await published(2);
    expect(await store.tornAccounts()).toEqual(new Map());
  });

  it('a refresh whose step in Redis failed (it may have run: a lost reply) marks again what is torn at the next one', async () => {
    const torn = createTornAccounts();
    const { store, publisher, refreshing, published } = setup(torn);
    torn.begin(new Map([['acc_big', 0]]));
    publisher.mark('access.roles.v1:0', 3n, 0);
    await published(1);
    expect(await store.tornAccounts()).toEqual(new Map([['acc_big', 0]]));
    // The round ends; the next refresh's end lifts the mark in Redis, but its reply is lost.
    torn.end(new Map([['acc_big', 0]]), true);
    const endRefresh = store.endRefresh;
    store.endRefresh = async (n, whole) => {
      await endRefresh(n, whole);
      throw new Error('Connection is closed.');
    };
    publisher.mark('access.roles.v1:0', 4n, 0);
    const second = publisher.flush();
    (await refreshing(2)).finish();
    await expect(second).rejects.toThrow('Connection is closed.');
    store.endRefresh = endRefresh;
    expect(await store.tornAccounts()).toEqual(new Map());
    // The account's next big round: the next refresh marks it, though this publisher had it marked.
    torn.begin(new Map([['acc_big', 0]]));
    publisher.mark('access.roles.v1:0', 5n, 0);
    await published(3);
    expect(await store.tornAccounts()).toEqual(new Map([['acc_big', 0]]));
  });
});

describe('the position publisher and an index that went back in time', () => {
  it('stops on the index found behind even when the refresh step in Redis failed beside the check (both go out at once)', async () => {
    const store = createAccountStateTwin();
    await store.raisePositions(new Map([['access.roles.v1:0', 40n]]));
    // The index holds its checkpoint at 30 only: restored from an older snapshot.
    const opensearch = {
      mget: async () => ({ body: { docs: [{ found: true, _source: { checkpoint: { field: 'access.roles.v1:0', offset: 30 } } }] } }),
      bulk: async () => {
        throw new Error('no checkpoint may be written over the hole');
      },
      indices: { refresh: async () => ({ body: { _shards: { total: 1, successful: 1, failed: 0 } } }) },
    } as unknown as Client;
    store.beginRefresh = async () => {
      throw new Error('Connection is closed.');
    };
    const publisher = createPositionPublisher({
      opensearch,
      index: () => 'users',
      store,
      intervalMs: 10,
      logger: silentLogger(),
      checkpoints: { indices: () => ['users'], requireAlias: false },
    });
    publisher.mark('access.roles.v1:0', 41n, 0);
    const error = await publisher.flush().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityFault);
    expect((error as IntegrityFault).code).toBe('index_behind');
    expect(await store.positions()).toEqual(new Map([['access.roles.v1:0', 40n]]));
  });
});
