/** The projector's account cache keeps within its memory budget: those needed last first, never a locked account, never the last one. */
import { describe, expect, it } from 'vitest';
import { SEP } from '../../projections/index.ts';
import { createAccountCache, estimateBytes } from '../../src/projector/account-cache.ts';
import { createAccountStateTwin } from '../../src/twins/account-state.ts';
import { commitOf } from '../contract/account-state.ts';

const W = 86_400_000;

/** A store with accounts of `facts` raw facts each. */
async function storeWith(accounts: Record<string, number>) {
  const store = createAccountStateTwin();
  for (const [accountId, facts] of Object.entries(accounts)) {
    const from = { event_id: 'e', type: 'user.upserted', topic: 't', partition: 0, offset: '0', time: '2026-03-01T00:00:00.000Z', time_ms: 0, seq: 0 };
    const rawChanges = new Map(Array.from({ length: facts }, (_, i) => [`u${SEP}user-${i}`, { v: '{}', f: from }] as const));
    await store.commit(commitOf({ accountId, rawChanges }));
  }
  return store;
}

describe('account cache budget', () => {
  it('estimates an account by its raw facts', async () => {
    const store = await storeWith({ small: 10, big: 1000 });
    const [small, big] = [await store.load('small', W), await store.load('big', W)];
    expect(estimateBytes(big)).toBeGreaterThan(50 * estimateBytes(small));
  });

  it('drops the least recently used accounts past the budget, and reads them again when they come back', async () => {
    const store = await storeWith({ a: 100, b: 100, c: 100 });
    const one = estimateBytes(await store.load('a', W));
    const evicted: string[] = [];
    const loads: string[] = [];
    const cache = createAccountCache(store, W, {
      budgetBytes: 2 * one,
      onEvict: (id) => evicted.push(id),
      onLoad: (id, load) => loads.push(`${id}${load.afterEviction ? ' again' : ''}`),
    });
    const a = await cache.get('a');
    await cache.get('b');
    expect(await cache.get('a')).toBe(a); // a is now the most recently used
    await cache.get('c');
    cache.trim();
    expect(evicted).toEqual(['b']);
    expect([cache.peek('a'), cache.peek('b')]).toEqual([a, undefined]);
    expect(cache.bytes()).toBeLessThanOrEqual(2 * one);
    const b = await cache.get('b');
    expect(b.raw.values.size).toBe(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(evicted).toEqual(['b', 'a']);
    // Reading b again is counted as the budget's cost; the first reads are not.
    expect(loads).toEqual(['a', 'b', 'c', 'b again']);
  });

  it('never drops a locked account, nor the only one, even over the budget', async () => {
    const store = await storeWith({ a: 100, b: 100 });
    const cache = createAccountCache(store, W, { budgetBytes: 1 });
    let a: unknown;
    await cache.withLock('a', async () => {
      a = await cache.get('a');
      // b is loaded while a is locked: b is the one the budget can drop.
      await cache.get('b');
      cache.trim();
      expect(cache.peek('a')).toBe(a);
      expect(cache.peek('b')).toBeUndefined();
    });
    await new Promise((resolve) => setImmediate(resolve));
    // a's lock released: a is the last one, and stays.
    expect(cache.peek('a')).toBe(a);
    expect(cache.size()).toBe(1);
  });

  it('lets go of every account no batch holds on trim(0), the last one too, without changing their stamps', async () => {
    const store = await storeWith({ a: 100, b: 100 });
    const cache = createAccountCache(store, W);
    await cache.get('a');
    const stamps = [cache.stamp('a'), cache.stamp('b')];
    await cache.withLock('b', async () => {
      await cache.get('b');
      cache.trim(0);
      expect(cache.peek('a')).toBeUndefined();
      expect(cache.peek('b')).toBeDefined();
    });
    cache.trim(0);
    expect(cache.size()).toBe(0);
    expect([cache.stamp('a'), cache.stamp('b')]).toEqual(stamps);
  });
  /** Serves `accounts` in turns as the lanes do (the one served goes to the back) for `turns` turns; the accounts read from the store. */
  async function serveInTurns(accounts: string[], turns: number, withServeOrder: boolean): Promise<number> {
    const store = await storeWith(Object.fromEntries(accounts.map((id) => [id, 100])));
    const one = estimateBytes(await store.load(accounts[0]!, W));
    const order = [...accounts];
    let loads = 0;
    const cache = createAccountCache(store, W, { budgetBytes: 2 * one, onLoad: () => (loads += 1), ...(withServeOrder ? { serveOrder: () => order } : {}) });
    for (let turn = 0; turn < turns; turn++) {
      const accountId = order.shift()!;
      order.push(accountId);
      await cache.withLock(accountId, () => cache.get(accountId));
      await new Promise((resolve) => setImmediate(resolve));
      expect(cache.bytes()).toBeLessThanOrEqual(2 * one);
    }
    return loads;
  }

  it('keeps the accounts the lanes serve next when the accounts waiting outgrow the budget, where least recently used would read every one again each turn', async () => {
    const accounts = ['a', 'b', 'c', 'd'];
    // Four accounts in turns, room for two: five rounds of turns read every account each turn by
    // least recent use (20), but only the two beyond the budget once the first round has read all four.
    expect(await serveInTurns(accounts, 20, false)).toBe(20);
    expect(await serveInTurns(accounts, 20, true)).toBe(4 + 4 * 2);
  });

  it('drops an account no lane waits for before one the lanes serve, however recently it was used', async () => {
    const store = await storeWith({ a: 100, b: 100, idle: 100 });
    const one = estimateBytes(await store.load('a', W));
    const evicted: string[] = [];
    const cache = createAccountCache(store, W, { budgetBytes: 2 * one, serveOrder: () => ['a', 'b'], onEvict: (id) => evicted.push(id) });
    await cache.get('a');
    await cache.get('b');
    await cache.get('idle');
    cache.trim();
    expect(evicted).toEqual(['idle']);
  });

  it('drops a heavy account the lanes wait for only after every other, even one served before it', async () => {
    const store = await storeWith({ heavy: 300, a: 100, b: 100, idle: 100 });
    const one = estimateBytes(await store.load('a', W));
    const evicted: string[] = [];
    // The lanes serve heavy last, so it would go first among those they wait for.
    const cache = createAccountCache(store, W, {
      budgetBytes: 3.5 * one,
      serveOrder: () => ['a', 'b', 'heavy'],
      keepLast: () => new Set(['heavy', 'idle']),
      onEvict: (id) => evicted.push(id),
    });
    for (const id of ['heavy', 'a', 'b', 'idle']) await cache.get(id);
    cache.trim();
    // The idle account goes first (keepLast names only what the lanes wait for), then b, then a.
    expect(evicted).toEqual(['idle', 'b', 'a']);
    expect(cache.peek('heavy')).toBeDefined();
  });

  it('tells the bytes it holds and those rounds or locks hold (the budget cannot drop them)', async () => {
    const store = await storeWith({ a: 100, b: 100, c: 100 });
    const one = estimateBytes(await store.load('a', W));
    const cache = createAccountCache(store, W, { budgetBytes: 10 * one, inUse: () => new Set(['b']) });
    await cache.get('a');
    await cache.get('b');
    // a and b are cached, c is being read under its lock; b is held by a round
    const inside = await cache.withLock('c', async () => (await cache.get('c'), cache.sizes()));
    expect(inside).toEqual({ all: 3 * one, held: 2 * one });
    // c's lock was released
    expect(cache.sizes()).toEqual({ all: 3 * one, held: one });
  });
});
