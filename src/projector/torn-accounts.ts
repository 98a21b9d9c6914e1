/**
 * The accounts a refresh may show part-written (docs/decisions.md 59). A big round is written in
 * slices (decision 58), and a refresh no longer waits for its last one: under a neighbour's churn a
 * big round was under way most of the time, and every refresh, so every small account's change,
 * waited for it. A refresh that starts while a round of an account is part-written shows part of
 * that round, so the publisher marks the account in Redis in the same step that starts the refresh,
 * and lifts the mark when a refresh that started once the account was written whole is published.
 * A mark is a count per account, odd while marked (a seqlock): a reader of the users index waits
 * while its account's count is odd, and answers only when it is the same even count after its
 * read (src/api/read-context.ts).
 *
 * A round that fails after writing part (a slice or an early write), or that is given up while a
 * later round of its accounts may write before their outbox is written, leaves its accounts torn
 * until a round writes their outbox whole (the failure drops them from the cache, and the next
 * load writes it first, decision 8) or Redis says none is left (the publisher asks before each
 * refresh). Marks left by a projector that died are lifted by the one that gets the account's
 * partition, once it has written every outbox (src/projector/projector.ts).
 */

/** An account and its partition (the same number on every topic, decision 9; -1 when unknown). */
export type AccountPartitions = ReadonlyMap<string, number>;

/** What a refresh marks and lifts, and the discards it follows. */
export interface Refresh {
  mark: Map<string, number>;
  lift: string[];
  era: number;
}

export interface TornAccounts {
  /** A round's first write of these accounts is about to be made, and more will follow it. */
  begin(accounts: AccountPartitions): void;
  /** That round has ended: written whole, or failed after writing part (its accounts stay torn). */
  end(accounts: AccountPartitions, whole: boolean): void;
  /** A write failed after part of it may have been made (its accounts stay torn). */
  broke(accounts: AccountPartitions): void;
  /**
   * Rounds wrote these accounts' outboxes whole (a recovery write, or none is left in Redis): what a
   * failed round left part-written is whole again.
   */
  recovered(accountIds: Iterable<string>): void;
  /** The accounts a failed write left torn and no round holds part-written now (to ask Redis whether their outbox is written). */
  idleBroken(): string[];
  /**
   * At a refresh's start, with no write in flight (the write gate): the accounts part-written now and
   * not marked yet, and the marked ones written whole since. Nothing changes until `marked` / `lifted`
   * say the marks were set and lifted in Redis.
   */
  atRefresh(): Refresh;
  /** The marks were set in Redis with the refresh's start. */
  marked(refresh: Refresh): void;
  /** The marks were lifted in Redis with the refresh's end. */
  lifted(lift: readonly string[]): void;
  /** Some mark waits to be lifted: a refresh is due even when nothing new was written. */
  due(): boolean;
  /** Some round is part-written now (a refresh now would mark its accounts). */
  writing(): boolean;
  /**
   * After an assignment's outboxes are written: the marks found in Redis for the partitions assigned
   * (or of no known partition) are this projector's to lift, once no round of it holds them part-written;
   * what it knew of other partitions' accounts is forgotten (another projector has them now).
   */
  adopt(marks: AccountPartitions, partitions: ReadonlySet<number>): void;
  /**
   * The marks in Redis may not be those known: Redis may have come back older (a reconnection, a
   * rollback repair that lifted every mark), or a refresh's step in Redis failed and may or may not
   * have run. The next refresh marks every account part-written again, and still lifts the marks it
   * knew of (both are no-ops where done); a refresh begun before this does not cancel that.
   */
  discard(): void;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createTornAccounts(): TornAccounts {
  /** rounds part-written, per account */
  const open = new Map<string, number>();
  /** accounts a failed write left part-written, until their outbox is written whole */
  const broken = new Set<string>();
  /** accounts marked in Redis */
  const marks = new Set<string>();
  /** the partition of each account known */
  const partitionOf = new Map<string, number>();
  /** the marks in Redis may not be those known (discard): the next refresh marks again */
  let remark = false;
  /** discards so far */
  let era = 0;

  const torn = (accountId: string) => (open.get(accountId) ?? 0) > 0 || broken.has(accountId);
  const learn = (accounts: AccountPartitions) => {
    for (const [accountId, partition] of accounts) if (partition >= 0 || !partitionOf.has(accountId)) partitionOf.set(accountId, partition);
  };

  return {
    begin(accounts) {
      learn(accounts);
      for (const accountId of accounts.keys()) open.set(accountId, (open.get(accountId) ?? 0) + 1);
    },
    end(accounts, whole) {
      for (const accountId of accounts.keys()) {
        const n = (open.get(accountId) ?? 0) - 1;
        if (n > 0) open.set(accountId, n);
        else open.delete(accountId);
        if (!whole) broken.add(accountId);
      }
    },
    broke(accounts) {
      learn(accounts);
      for (const accountId of accounts.keys()) broken.add(accountId);
    },
    recovered(accountIds) {
      for (const accountId of accountIds) broken.delete(accountId);
    },
    idleBroken() {
      return [...broken].filter((accountId) => !open.has(accountId));
    },
    atRefresh() {
      const mark = new Map<string, number>();
      for (const accountId of new Set([...open.keys(), ...broken])) if (remark || !marks.has(accountId)) mark.set(accountId, partitionOf.get(accountId) ?? -1);
      const lift = [...marks.keys()].filter((accountId) => !torn(accountId));
      return { mark, lift, era };
    },
    marked(refresh) {
      if (refresh.era === era) remark = false;
      for (const accountId of refresh.mark.keys()) marks.add(accountId);
    },
    lifted(lift) {
      for (const accountId of lift) marks.delete(accountId);
    },
    writing() {
      return open.size > 0;
    },
    due() {
      for (const accountId of marks.keys()) if (!torn(accountId)) return true;
      return false;
    },
    adopt(found, partitions) {
      const ours = (partition: number) => partition < 0 || partitions.has(partition);
      const oursNow = (accountId: string) => ours(partitionOf.get(accountId) ?? -1);
      for (const accountId of [...marks]) if (!oursNow(accountId)) marks.delete(accountId);
      for (const accountId of [...broken]) if (!oursNow(accountId)) broken.delete(accountId);
      for (const [accountId, partition] of found) {
        if (!ours(partition)) continue;
        marks.add(accountId);
        partitionOf.set(accountId, partition);
      }
    },
    discard() {
      remark = true;
      era += 1;
    },
  };
}
