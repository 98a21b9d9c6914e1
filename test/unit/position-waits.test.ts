import { describe, expect, it } from 'vitest';
import { createPositionWaits } from '../../src/api/position-waits.ts';
import type { Positions } from '../../src/api/position.ts';
import { AppError } from '../../src/errors.ts';
import type { KeySpace } from '../../src/redis/keys.ts';
import type { PositionSource } from '../../src/redis/positions-reader.ts';

/** Stores whose positions the test moves; every read is recorded. */
function positionsStore() {
  const offsets = new Map<string, bigint>();
  const reads: { generation: string; asked: string[] }[] = [];
  return {
    set: (key: string, offset: bigint) => offsets.set(key, offset),
    reads,
    read: (space: KeySpace, asked: readonly { accountId: string; source: PositionSource }[]): Promise<Positions[]> => {
      reads.push({ generation: space.generation, asked: asked.map((a) => `${a.accountId}/${a.source}`) });
      return Promise.resolve(asked.map(({ accountId }) => new Map([['t:0', offsets.get(`${space.generation}/${accountId}`) ?? -1n]])));
    },
  };
}

const g1: KeySpace = { namespace: 'ns', generation: 'g1' };
const g2: KeySpace = { namespace: 'ns', generation: 'g2' };
const at = (offset: bigint) => new Map([['t:0', offset]]);

describe('the requests waiting for min_position', () => {
  it('share one read per tick and generation, each settled when its own position is reached', async () => {
    const store = positionsStore();
    const waits = createPositionWaits(store.read, { pollMs: 5 });
    const settled: string[] = [];
    const a5 = waits.wait(g1, 'a', 'search', at(5n), 5_000).then(() => settled.push('a5'));
    const a9 = waits.wait(g1, 'a', 'counters', at(9n), 5_000).then(() => settled.push('a9'));
    const b3 = waits.wait(g1, 'b', 'search', at(3n), 5_000).then(() => settled.push('b3'));
    const c1 = waits.wait(g2, 'c', 'search', at(1n), 5_000).then(() => settled.push('c1'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    // nobody reached yet: every tick read each generation once, with all of its waiting accounts
    expect(settled).toEqual([]);
    expect(store.reads.length).toBeGreaterThan(1);
    const ticks = new Set(store.reads.map((r) => JSON.stringify(r)));
    expect(ticks).toEqual(
      new Set([JSON.stringify({ generation: 'g1', asked: ['a/search', 'a/counters', 'b/search'] }), JSON.stringify({ generation: 'g2', asked: ['c/search'] })]),
    );
    store.set('g1/a', 6n);
    store.set('g2/c', 1n);
    await Promise.all([a5, c1]);
    expect(settled.sort()).toEqual(['a5', 'c1']);
    expect(waits.waiting()).toBe(2);
    store.set('g1/a', 9n);
    store.set('g1/b', 3n);
    await Promise.all([a9, b3]);
    expect(waits.waiting()).toBe(0);
    // the poll stops once nobody waits
    const count = store.reads.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.reads.length).toBe(count);
  });

  it('answers position_timeout past wait_ms, with the lag, while the others keep waiting', async () => {
    const store = positionsStore();
    const waits = createPositionWaits(store.read, { pollMs: 5 });
    store.set('g1/a', 2n);
    const late = waits.wait(g1, 'a', 'search', at(7n), 20).catch((e: unknown) => e);
    const patient = waits.wait(g1, 'a', 'search', at(4n), 5_000);
    const error = await late;
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('position_timeout');
    expect((error as AppError).message).toBe('the index did not reach min_position within 20 ms: t:0 wanted 7, have 2');
    expect(waits.waiting()).toBe(1);
    store.set('g1/a', 4n);
    expect(await patient).toEqual(at(4n));
  });

  it('gives a failed read to every request of that tick', async () => {
    const waits = createPositionWaits(() => Promise.reject(new Error('Redis is gone')), { pollMs: 5 });
    const results = await Promise.allSettled([waits.wait(g1, 'a', 'search', at(1n), 5_000), waits.wait(g1, 'b', 'counters', at(1n), 5_000)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'resolved'))).toEqual(['Redis is gone', 'Redis is gone']);
    expect(waits.waiting()).toBe(0);
  });
});
