/**
 * The account-state port: what the projector, the API's counters, verify and the rebuild need from
 * the store that holds each account's facts, remembered event ids, counters, outbox and applied
 * offsets, and the generation's positions. One adapter (src/redis/account-store.ts, Redis with Lua)
 * and one in-memory twin (src/twins/account-state.ts) implement it; both pass the same contract
 * suite (test/contract/account-state.ts).
 *
 * The rules every implementation keeps (the contract suite checks each):
 * - `commit` is all or nothing, and refuses (null, nothing written) a commit computed from another
 *   version than the stored one, or one whose last offset the account has already applied from
 *   that partition (a redelivered batch);
 * - `clearOutboxes` forgets only the entries written at the given version or before it, so a
 *   confirmation of an older write never clears what a newer commit put back; an account leaves
 *   `dirtyAccounts` only when both its outboxes are empty;
 * - positions only ever go up; `raiseApplied` raises nothing and throws when a range does not
 *   continue its partition (the store lost applied events since they were checked);
 * - `load` gives an account as one version left it, whatever commits run while it reads;
 * - `readFacts` gives the facts and raw facts `load` would give at one version, or null, never a
 *   mix of two versions;
 * - `fence` (an option of both) runs before every read of an account and every commit, so that a
 *   caller can refuse to touch a store it has not checked since a reconnect.
 */
import type { AccountFacts, AccountState, FactChange } from '../../projections/index.ts';
import type { RawState, RawValue } from '../records/fact-intervals.ts';

export interface LoadedAccount {
  state: AccountState;
  version: number;
  /** `<topic>:<partition>` -> last applied offset */
  offsets: Map<string, bigint>;
  /** users whose documents may not be in OpenSearch yet, with the version they were dirtied at */
  dirty: Map<string, number>;
  /** fact intervals not yet confirmed written: id -> version and the record's JSON (as written to Redis and to `_bulk`) */
  intervalOutbox: Map<string, { version: number; json: string }>;
  /** raw facts (each topic's own assertions) with the event that opened each value */
  raw: RawState;
}

/** An account's facts and raw facts, as `readFacts` gives them. */
export interface AccountFactsRead {
  facts: AccountFacts;
  raw: RawState;
  version: number;
  /** how many users' documents may not be in OpenSearch yet */
  dirtyUsers: number;
}

export interface BatchCommit {
  accountId: string;
  expectedVersion: number;
  /** `<topic>:<partition>` of the batch and the last offset it applies */
  partition: string;
  lastOffset: bigint;
  changes: FactChange[];
  seen: { id: string; timeMs: number }[];
  newestMs: number;
  /** remembered ids older than this are forgotten (below -1e300: none) */
  pruneBeforeMs: number;
  counterDeltas: Map<string, number>;
  dirtyUsers: string[];
  /** fact intervals as JSON, by id: serialized once, for this commit's outbox and for the bulk write */
  intervalJson: Map<string, string>;
  rawChanges: Map<string, RawValue | null>;
}

/** What one account's bulk write confirmed: its outbox entries up to `version` can go. */
export interface OutboxClear {
  accountId: string;
  version: number;
  userIds: readonly string[];
  intervalIds: readonly string[];
}

export interface AccountStateOptions {
  /**
   * Called (synchronously) before every read of an account and every commit: the projector throws
   * from it when its Redis connection was re-established since it last checked Redis's state, so
   * that nothing is read or written on a Redis that may have come back older (docs/reliability.md).
   */
  fence?: () => void;
  /**
   * Fields per piece when `load` and `readFacts` read the facts hashes in pieces (the Redis
   * adapter's HSCAN COUNT; default 2,000); 0: `load` reads them whole, in its one MULTI.
   */
  pieceSize?: number;
}

export interface AccountStatePort {
  /**
   * Reads one account (facts, ids within the window, version, offsets, outbox), all of one version.
   * The Redis adapter reads the facts and raw facts in pieces, as `readFacts` does, so that a big
   * account's load holds one piece's reply at a time, not the whole account's beside what is
   * decoded from it (decision 70).
   */
  load(accountId: string, windowMs: number): Promise<LoadedAccount>;
  /**
   * Reads an account's facts and raw facts in pieces, without its remembered ids, offsets or
   * outbox: what verify compares. A whole `load` of the largest account holds the store's reply
   * beside what is decoded from it; read in pieces, only one piece's reply is held (decision 69).
   * Null when the account committed while it was read (the pieces may then mix two versions): the
   * caller reads it whole with `load`.
   */
  readFacts(accountId: string): Promise<AccountFactsRead | null>;
  /** The last applied offset of each partition that has fed the account (`<topic>:<partition>`). */
  appliedOffsets(accountId: string): Promise<Map<string, bigint>>;
  /** The account's version alone (cheap staleness check). */
  version(accountId: string): Promise<number>;
  /** Commits a batch atomically: the new version, or null when refused (nothing written; reload and retry). */
  commit(c: BatchCommit): Promise<number | null>;
  /** Forgets outbox entries written at each account's `version` or before, for many accounts at once. */
  clearOutboxes(cleared: readonly OutboxClear[]): Promise<void>;
  /** Accounts that may have documents or fact intervals not yet written to OpenSearch. */
  dirtyAccounts(): Promise<string[]>;
  /** Which of these accounts are among `dirtyAccounts`. */
  dirtyAmong(accountIds: readonly string[]): Promise<Set<string>>;
  /** Every account of the generation, sorted. */
  accounts(): Promise<string[]>;
  /** Publishes searchable positions (`<topic>:<partition>` -> offset), only ever raising them. */
  raisePositions(positions: ReadonlyMap<string, bigint>): Promise<void>;
  /**
   * Publishes accounts' own searchable positions (account -> `<topic>:<partition>` -> offset: every
   * event of the account up to the offset is written and refreshed), only ever raising them. An
   * account's answers reflect the further of these and the generation's positions (decision 34).
   */
  raiseAccountPositions(byAccount: ReadonlyMap<string, ReadonlyMap<string, bigint>>): Promise<void>;
  /** An account's own searchable positions. */
  accountPositions(accountId: string): Promise<Map<string, bigint>>;
  /** Publishes applied positions; throws (raising nothing) when a range does not continue its partition. */
  raiseApplied(ranges: ReadonlyMap<string, { from: bigint; to: bigint }>): Promise<void>;
  /**
   * A refresh starts: returns its number. The accounts in `torn` (account -> partition) may show
   * part-written in it: they are marked in the same step (decision 59).
   */
  beginRefresh(torn?: ReadonlyMap<string, number>): Promise<number>;
  /**
   * Refresh `n`'s checkpoints are in every index of the generation (`sealed` only ever goes up);
   * called before its positions are published, so a reader that reads positions and then `sealed`
   * holds a refresh number the index must have reached (decision 35).
   */
  sealRefresh(n: number): Promise<void>;
  /** The number of the last sealed refresh (0 when none). */
  sealedRefresh(): Promise<number>;
  /**
   * Refresh `n`'s positions are published (`refreshed` only ever goes up), and the marks of the
   * accounts in `whole` are lifted in the same step: it shows them whole.
   */
  endRefresh(n: number, whole?: readonly string[]): Promise<void>;
  /** The accounts marked as possibly part-written (decision 59), and their partitions. */
  tornAccounts(): Promise<Map<string, number>>;
  /** Searchable positions. */
  positions(): Promise<Map<string, bigint>>;
  /** Applied positions: every event up to each offset is committed to the store. */
  applied(): Promise<Map<string, bigint>>;
  /** All counters of an account as core counter keys (zeros are not kept). */
  counters(accountId: string): Promise<Map<string, number>>;
}
