/**
 * The account-state port (src/ports/account-state.ts) in memory: the twin of the Redis adapter,
 * keeping the same rules (test/contract/account-state.ts runs against both). Values are kept
 * encoded as Redis keeps them, so what `load` returns shares nothing with the store. For tests that
 * need no server: projectBatch's crash, fence and outbox rules (test/unit/project-batch.test.ts).
 * `snapshot` and `restore` stand for a Redis that comes back from an older RDB file.
 */
import { type SeenIds, dedupeHorizon, loadFacts } from '../../projections/index.ts';
import { AppError } from '../errors.ts';
import type { AccountFactsRead, AccountStateOptions, AccountStatePort, BatchCommit, LoadedAccount, OutboxClear } from '../ports/account-state.ts';
import { appliedGapMessage, coalesce, decodeIntervalOutbox, decodeRaw, outboxValue, outboxVersion, splitRawChanges } from '../records/account-records.ts';

interface StoredAccount {
  facts: Map<string, string>;
  /** event id -> event time ms */
  seen: Map<string, number>;
  version: number;
  newestMs: number;
  offsets: Map<string, bigint>;
  /** the account's own searchable positions */
  searchable: Map<string, bigint>;
  counters: Map<string, number>;
  /** user id -> version */
  dirty: Map<string, number>;
  /** interval id -> `<version>\n<JSON record>` */
  intervalOutbox: Map<string, string>;
  /** raw fact key -> JSON {v, f} */
  raw: Map<string, string>;
}

interface StoredGeneration {
  accounts: Map<string, StoredAccount>;
  registered: Set<string>;
  dirtyAccounts: Set<string>;
  positions: Map<string, bigint>;
  applied: Map<string, bigint>;
  refreshing: number;
  refreshed: number;
  sealed: number;
  /** account -> count, odd while marked (decision 59) */
  torn: Map<string, number>;
  tornPartitions: Map<string, number>;
}

const emptyGeneration = (): StoredGeneration => ({
  accounts: new Map(),
  registered: new Set(),
  dirtyAccounts: new Set(),
  positions: new Map(),
  applied: new Map(),
  refreshing: 0,
  refreshed: 0,
  sealed: 0,
  torn: new Map(),
  tornPartitions: new Map(),
});

const emptyStoredAccount = (): StoredAccount => ({
  facts: new Map(),
  seen: new Map(),
  version: 0,
  newestMs: Number.NEGATIVE_INFINITY,
  offsets: new Map(),
  searchable: new Map(),
  counters: new Map(),
  dirty: new Map(),
  intervalOutbox: new Map(),
  raw: new Map(),
});

function raiseAll(target: Map<string, bigint>, positions: ReadonlyMap<string, bigint>): void {
  for (const [field, offset] of positions) if ((target.get(field) ?? -1n) < offset) target.set(field, offset);
}

export interface AccountStateTwin extends AccountStatePort {
  /** A copy of everything stored, to `restore` later (a Redis restarted from an older snapshot). */
  snapshot(): unknown;
  restore(snapshot: unknown): void;
  /** Forgets everything (a Redis emptied). */
  flush(): void;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createAccountStateTwin(options: AccountStateOptions = {}): AccountStateTwin {
  const fence = options.fence ?? (() => undefined);
  let gen = emptyGeneration();
  const account = (accountId: string): StoredAccount => gen.accounts.get(accountId) ?? emptyStoredAccount();

  function applyCommit(a: StoredAccount, c: BatchCommit, version: number): void {
    const { set, del } = coalesce(c.changes);
    for (const [key, value] of set) a.facts.set(key, value);
    for (const key of del) a.facts.delete(key);
    for (const { id, timeMs } of c.seen) a.seen.set(id, timeMs);
    for (const [key, delta] of c.counterDeltas) {
      const left = (a.counters.get(key) ?? 0) + delta;
      if (left <= 0) a.counters.delete(key);
      else a.counters.set(key, left);
    }
    for (const u of c.dirtyUsers) a.dirty.set(u, version);
    for (const [id, json] of c.intervalJson) a.intervalOutbox.set(id, outboxValue(version, json));
    const raw = splitRawChanges(c.rawChanges);
    for (const [key, json] of raw.set) a.raw.set(key, json);
    for (const key of raw.del) a.raw.delete(key);
    if (c.pruneBeforeMs > -1e300) for (const [id, at] of a.seen) if (at < c.pruneBeforeMs) a.seen.delete(id);
    a.version = version;
    a.newestMs = c.newestMs;
    a.offsets.set(c.partition, c.lastOffset);
  }

  return {
    async load(accountId: string, windowMs: number): Promise<LoadedAccount> {
      fence();
      const a = account(accountId);
      const seen: SeenIds = { ids: new Map(), newestMs: a.newestMs };
      if (Number.isFinite(a.newestMs)) {
        const horizon = dedupeHorizon({ ids: new Map(), newestMs: a.newestMs }, windowMs);
        for (const [id, at] of a.seen) if (at >= horizon) seen.ids.set(id, at);
      }
      return {
        state: { facts: loadFacts(a.facts), seen },
        version: a.version,
        offsets: new Map(a.offsets),
        dirty: new Map(a.dirty),
        intervalOutbox: decodeIntervalOutbox(a.intervalOutbox),
        raw: decodeRaw(a.raw),
      };
    },

    async readFacts(accountId: string): Promise<AccountFactsRead | null> {
      fence();
      const a = account(accountId);
      // Read in one step: nothing commits in between, so the read is never torn.
      return { facts: loadFacts(a.facts), raw: decodeRaw(a.raw), version: a.version, dirtyUsers: a.dirty.size };
    },

    async appliedOffsets(accountId: string): Promise<Map<string, bigint>> {
      return new Map(account(accountId).offsets);
    },

    async version(accountId: string): Promise<number> {
      return account(accountId).version;
    },

    async commit(c: BatchCommit): Promise<number | null> {
      fence();
      // Registered before the commit, as the Redis adapter's pipeline does: even a refused commit.
      gen.registered.add(c.accountId);
      gen.dirtyAccounts.add(c.accountId);
      const a = gen.accounts.get(c.accountId) ?? emptyStoredAccount();
      if (a.version !== c.expectedVersion) return null;
      const stored = a.offsets.get(c.partition);
      if (stored !== undefined && stored >= c.lastOffset) return null;
      applyCommit(a, c, a.version + 1);
      gen.accounts.set(c.accountId, a);
      return a.version;
    },

    async clearOutboxes(cleared: readonly OutboxClear[]): Promise<void> {
      for (const c of cleared) {
        const a = gen.accounts.get(c.accountId);
        if (!a) continue;
        for (const u of c.userIds) if ((a.dirty.get(u) ?? Infinity) <= c.version) a.dirty.delete(u);
        for (const id of c.intervalIds) {
          const value = a.intervalOutbox.get(id);
          if (value !== undefined && outboxVersion(value) <= c.version) a.intervalOutbox.delete(id);
        }
        if (a.dirty.size === 0 && a.intervalOutbox.size === 0) gen.dirtyAccounts.delete(c.accountId);
      }
    },

    async dirtyAccounts(): Promise<string[]> {
      return [...gen.dirtyAccounts];
    },

    async dirtyAmong(accountIds: readonly string[]): Promise<Set<string>> {
      return new Set(accountIds.filter((accountId) => gen.dirtyAccounts.has(accountId)));
    },

    async accounts(): Promise<string[]> {
      return [...gen.registered].sort();
    },

    async raisePositions(positions: ReadonlyMap<string, bigint>): Promise<void> {
      raiseAll(gen.positions, positions);
    },

    async raiseAccountPositions(byAccount: ReadonlyMap<string, ReadonlyMap<string, bigint>>): Promise<void> {
      for (const [accountId, positions] of byAccount) {
        // As HSET does: the account's meta comes into being if it was not there.
        const a = gen.accounts.get(accountId) ?? emptyStoredAccount();
        gen.accounts.set(accountId, a);
        raiseAll(a.searchable, positions);
      }
    },

    async accountPositions(accountId: string): Promise<Map<string, bigint>> {
      return new Map(gen.accounts.get(accountId)?.searchable ?? []);
    },

    async raiseApplied(ranges: ReadonlyMap<string, { from: bigint; to: bigint }>): Promise<void> {
      if (ranges.size === 0) return;
      fence();
      for (const [field, { from }] of ranges) if ((gen.applied.get(field) ?? -1n) + 1n < from) throw new AppError('store_conflict', appliedGapMessage(field), { retriable: true });
      raiseAll(gen.applied, new Map([...ranges].map(([field, { to }]) => [field, to])));
    },

    async beginRefresh(torn?: ReadonlyMap<string, number>): Promise<number> {
      for (const [accountId, partition] of torn ?? []) {
        const n = gen.torn.get(accountId) ?? 0;
        if (n % 2 === 0) gen.torn.set(accountId, n + 1);
        gen.tornPartitions.set(accountId, partition);
      }
      return (gen.refreshing += 1);
    },

    async sealRefresh(n: number): Promise<void> {
      gen.sealed = Math.max(gen.sealed, n);
    },

    async sealedRefresh(): Promise<number> {
      return gen.sealed;
    },

    async endRefresh(n: number, whole?: readonly string[]): Promise<void> {
      for (const accountId of whole ?? []) {
        const count = gen.torn.get(accountId) ?? 0;
        if (count % 2 === 1) gen.torn.set(accountId, count + 1);
        gen.tornPartitions.delete(accountId);
      }
      gen.refreshed = Math.max(gen.refreshed, n);
    },

    async tornAccounts(): Promise<Map<string, number>> {
      return new Map([...gen.torn].filter(([, n]) => n % 2 === 1).map(([accountId]) => [accountId, gen.tornPartitions.get(accountId) ?? -1]));
    },

    async positions(): Promise<Map<string, bigint>> {
      return new Map(gen.positions);
    },

    async applied(): Promise<Map<string, bigint>> {
      return new Map(gen.applied);
    },

    async counters(accountId: string): Promise<Map<string, number>> {
      return new Map(account(accountId).counters);
    },

    snapshot: () => structuredClone(gen),
    restore(snapshot: unknown): void {
      gen = structuredClone(snapshot as StoredGeneration);
    },
    flush(): void {
      gen = emptyGeneration();
    },
  };
}
