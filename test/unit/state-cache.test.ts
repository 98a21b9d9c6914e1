import { describe, expect, it } from 'vitest';
import { createStateCache } from '../../src/api/state-cache.ts';

function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('the state cache (decision 55)', () => {
  it('computes a key once for every caller that asks while it is being computed, and after', async () => {
    const cache = createStateCache<string>({ max: 2, ttlMs: 60_000 });
    const computing = deferred<string>();
    let computed = 0;
    const compute = () => ((computed += 1), computing.promise);
    const asked = [cache.get('acc_a@7@T', compute), cache.get('acc_a@7@T', compute), cache.get('acc_a@7@T', compute)];
    computing.resolve('documents at T');
    expect(await Promise.all(asked)).toEqual(['documents at T', 'documents at T', 'documents at T']);
    expect(await cache.get('acc_a@7@T', compute)).toBe('documents at T');
    expect(computed).toBe(1);
  });

  it('computes another key (another version of the account) anew', async () => {
    const cache = createStateCache<string>({ max: 2, ttlMs: 60_000 });
    expect(await cache.get('acc_a@7@T', async () => 'version 7')).toBe('version 7');
    expect(await cache.get('acc_a@8@T', async () => 'version 8')).toBe('version 8');
    expect(await cache.get('acc_a@7@T', async () => 'again')).toBe('version 7');
  });

  it('forgets a failed computation at once: the next caller computes again', async () => {
    const cache = createStateCache<string>({ max: 2, ttlMs: 60_000 });
    await expect(cache.get('k', async () => Promise.reject(new Error('OpenSearch unreachable')))).rejects.toThrow('OpenSearch unreachable');
    expect(cache.keys()).toEqual([]);
    expect(await cache.get('k', async () => 'read')).toBe('read');
  });

  it('keeps at most `max` values, dropping the least recently used', async () => {
    const cache = createStateCache<string>({ max: 2, ttlMs: 60_000 });
    await cache.get('a', async () => 'a');
    await cache.get('b', async () => 'b');
    await cache.get('a', async () => 'a again'); // a is now the most recently used
    await cache.get('c', async () => 'c');
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(await cache.get('b', async () => 'b computed again')).toBe('b computed again');
  });

  it('drops a value not used for longer than ttlMs', async () => {
    let clock = 0;
    const cache = createStateCache<string>({ max: 2, ttlMs: 1_000, now: () => clock });
    await cache.get('a', async () => 'a');
    clock = 900;
    expect(await cache.get('a', async () => 'recomputed')).toBe('a');
    clock = 1_800; // 900 ms after its last use
    expect(cache.keys()).toEqual(['a']);
    clock = 2_000; // 1,100 ms after
    expect(cache.keys()).toEqual([]);
    expect(await cache.get('a', async () => 'recomputed')).toBe('recomputed');
  });
});
