/**
 * Loaded accounts kept in memory between batches, with one lock per account: batches of different
 * partitions that touch the same account run one after the other in this process, and the account
 * version in Redis guards against other processes.
 *
 * The cache holds at most `budgetBytes` (estimated) of accounts: past it, unlocked accounts are
 * dropped, those needed last first (`dropOrder`), and read again from the store when they come
 * back. Dropping is always safe: the store holds each account whole (facts, version, offsets,
 * outbox), and what a batch does after its write is only done to the account object it started
 * from while that object is still the cached one (src/projector/project-batch.ts). One account
 * stays, even alone over the budget: an account has to be in memory to be projected.
 */
import type { AccountStatePort, LoadedAccount } from '../ports/account-state.ts';

export interface CachedAccount extends LoadedAccount {
  /** true until the outbox found at load time has been written */
  recovered: boolean;
}

/**
 * Bytes of heap per raw fact of an account (its raw value and the event that opened it, its share
 * of the derived facts and their indexes), measured on generated accounts (bench/account-memory.ts).
 */
export const BYTES_PER_RAW_FACT = 650;

/** The default budget: a small machine's projector keeps about this much of accounts in memory. */
export const DEFAULT_CACHE_BYTES = 384 * 1024 * 1024;

/** An account's estimated heap: proportional to its raw facts (every fact it holds comes from one). */
export function estimateBytes(account: LoadedAccount): number {
  return (account.raw.values.size + account.dirty.size + account.intervalOutbox.size) * BYTES_PER_RAW_FACT + 4_096;
}

/** One account read from the store into the cache. */
export interface AccountLoad {
  seconds: number;
  /** its estimated heap (`estimateBytes`) */
  bytes: number;
  /** the budget had dropped it: a read the budget cost */
  afterEviction: boolean;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createAccountCache(
  store: AccountStatePort,
  windowMs: number,
  options: {
    budgetBytes?: number;
    /** the accounts events wait for, in the order they will be served (src/projector/lanes.ts) */
    serveOrder?: () => Iterable<string>;
    /**
     * Accounts a round still holds (planning, committing or writing) though their lock is free: the
     * budget keeps them, since dropping one frees nothing while the round holds it, and its next
     * round would read it again (with the round's copy still alive: two copies at once).
     */
    inUse?: () => ReadonlySet<string>;
    /**
     * Accounts that, while the lanes wait for them, go only when no other can (the heavy accounts,
     * decision 53): reading one back takes seconds, while its lane waits, and for that while it
     * holds about twice its size.
     */
    keepLast?: () => Pick<ReadonlySet<string>, 'has' | 'size'>;
    onEvict?: (accountId: string) => void;
    onLoad?: (accountId: string, load: AccountLoad) => void;
  } = {},
) {
  const budget = options.budgetBytes ?? DEFAULT_CACHE_BYTES;
  /** in order of last use, oldest first */
  const accounts = new Map<string, CachedAccount>();
  const locks = new Map<string, Promise<unknown>>();
  let trimScheduled = false;
  /** per account, how often it was dropped for a reason other than the budget; `cleared` counts clear() */
  const dropped = new Map<string, number>();
  let cleared = 0;
  /** accounts the budget dropped and not read again since */
  const evicted = new Set<string>();

  /** The estimated bytes of the cached accounts. */
  function bytes(): number {
    let total = 0;
    for (const account of accounts.values()) total += estimateBytes(account);
    return total;
  }

  /**
   * The cached accounts in the order they go when the budget is short: first those no lane waits
   * for (least recently used first), then those the lanes serve last first. The lanes serve their
   * accounts in turn, the one just served going to the back; dropping the least recently used would
   * drop the account served next, every turn, whenever the accounts waiting outgrow the budget.
   * Of the accounts the lanes wait for, those `keepLast` names go after all others.
   */
  function dropOrder(): string[] {
    if (!options.serveOrder) return [...accounts.keys()];
    const served = [...options.serveOrder()];
    const waiting = new Set(served);
    const idle = [...accounts.keys()].filter((accountId) => !waiting.has(accountId));
    const byServe = served.reverse().filter((accountId) => accounts.has(accountId));
    const last = options.keepLast?.();
    if (!last || last.size === 0) return [...idle, ...byServe];
    return [...idle, ...byServe.filter((accountId) => !last.has(accountId)), ...byServe.filter((accountId) => last.has(accountId))];
  }

  /**
   * Drops unlocked accounts (in `dropOrder`) while the estimate is over `target` (the budget,
   * keeping at least one account; 0 drops every account no batch holds).
   */
  function trim(target = budget): void {
    let total = bytes();
    if (total <= target) return;
    const held = options.inUse?.() ?? new Set<string>();
    for (const accountId of dropOrder()) {
      if (total <= target || (target > 0 && accounts.size <= 1)) return;
      if (locks.has(accountId) || held.has(accountId)) continue;
      const account = accounts.get(accountId)!;
      accounts.delete(accountId);
      total -= estimateBytes(account);
      evicted.add(accountId);
      options.onEvict?.(accountId);
    }
  }

  /** One trim per turn of the event loop: a batch releases many locks, and a trim reads every account's size. */
  function scheduleTrim(): void {
    if (trimScheduled) return;
    trimScheduled = true;
    setImmediate(() => {
      trimScheduled = false;
      trim(budget);
    });
  }

  return {
    /** The estimated bytes of the cached accounts, and of those a round holds or a lock covers (the budget cannot drop them). */
    sizes(): { all: number; held: number } {
      const inUse = options.inUse?.() ?? new Set<string>();
      let all = 0;
      let held = 0;
      for (const [accountId, account] of accounts) {
        const size = estimateBytes(account);
        all += size;
        if (inUse.has(accountId) || locks.has(accountId)) held += size;
      }
      return { all, held };
    },
    async get(accountId: string): Promise<CachedAccount> {
      let account = accounts.get(accountId);
      if (account) {
        accounts.delete(accountId);
        accounts.set(accountId, account);
        return account;
      }
      const started = performance.now();
      account = { ...(await store.load(accountId, windowMs)), recovered: false };
      accounts.set(accountId, account);
      options.onLoad?.(accountId, { seconds: (performance.now() - started) / 1000, bytes: estimateBytes(account), afterEviction: evicted.delete(accountId) });
      scheduleTrim();
      return account;
    },
    /** The cached account, without loading it. */
    peek(accountId: string): CachedAccount | undefined {
      return accounts.get(accountId);
    },
    /** Drops the account; the next `get` reads it again from Redis. */
    invalidate(accountId: string): void {
      accounts.delete(accountId);
      dropped.set(accountId, (dropped.get(accountId) ?? 0) + 1);
    },
    clear(): void {
      accounts.clear();
      dropped.clear();
      cleared += 1;
    },
    /**
     * Changes whenever the account is invalidated (a write of its commits failed, another process
     * wrote it) or the cache is cleared, not when the budget drops it: taken before a round gets
     * the account and compared after its write, it says whether every commit the round's object
     * carried is written (src/projector/project-batch.ts).
     */
    stamp(accountId: string): string {
      return `${cleared}:${dropped.get(accountId) ?? 0}`;
    },
    size(): number {
      return accounts.size;
    },
    /**
     * Enforces the budget now (it is enforced on the next turn after every load and every lock
     * released), or a smaller target: `trim(0)` lets go of every account no batch holds.
     */
    trim,
    bytes,
    /** Runs `fn` with the account's lock held; the budget is enforced when it ends (the account grew). */
    async withLock<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
      const previous = locks.get(accountId) ?? Promise.resolve();
      const run = previous.then(fn, fn);
      const tail = run.catch(() => undefined);
      locks.set(accountId, tail);
      try {
        return await run;
      } finally {
        if (locks.get(accountId) === tail) locks.delete(accountId);
        scheduleTrim();
      }
    },
  };
}

export type AccountCache = ReturnType<typeof createAccountCache>;
