/**
 * Loaded accounts kept in memory between batches, with one lock per account: batches of different
 * partitions that touch the same account run one after the other in this process, and the account
 * version in Redis guards against other processes.
 */
import type { AccountStatePort, LoadedAccount } from '../ports/account-state.ts';

export interface CachedAccount extends LoadedAccount {
  /** true until the outbox found at load time has been written */
  recovered: boolean;
}

export function createAccountCache(store: AccountStatePort, windowMs: number) {
  const accounts = new Map<string, CachedAccount>();
  const locks = new Map<string, Promise<unknown>>();

  return {
    async get(accountId: string): Promise<CachedAccount> {
      let account = accounts.get(accountId);
      if (!account) {
        account = { ...(await store.load(accountId, windowMs)), recovered: false };
        accounts.set(accountId, account);
      }
      return account;
    },
    /** The cached account, without loading it. */
    peek(accountId: string): CachedAccount | undefined {
      return accounts.get(accountId);
    },
    /** Drops the account; the next `get` reads it again from Redis. */
    invalidate(accountId: string): void {
      accounts.delete(accountId);
    },
    clear(): void {
      accounts.clear();
    },
    size(): number {
      return accounts.size;
    },
    /** Runs `fn` with the account's lock held. */
    async withLock<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
      const previous = locks.get(accountId) ?? Promise.resolve();
      const run = previous.then(fn, fn);
      const tail = run.catch(() => undefined);
      locks.set(accountId, tail);
      try {
        return await run;
      } finally {
        if (locks.get(accountId) === tail) locks.delete(accountId);
      }
    },
  };
}

export type AccountCache = ReturnType<typeof createAccountCache>;
