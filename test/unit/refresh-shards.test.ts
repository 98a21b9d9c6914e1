import { describe, expect, it } from 'vitest';
import { requireRefreshed } from '../../src/opensearch/indices.ts';

describe('a refresh is trusted only when no shard failed it', () => {
  it('accepts every shard refreshed, and a yellow cluster whose replica is not assigned', () => {
    expect(() => requireRefreshed({ total: 1, successful: 1, failed: 0 }, 'ns-users-g1')).not.toThrow();
    expect(() => requireRefreshed({ total: 2, successful: 1, failed: 0 }, 'ns-users-g1')).not.toThrow();
  });

  it('refuses a refresh a shard failed, naming the index', () => {
    expect(() => requireRefreshed({ total: 2, successful: 1, failed: 1 }, 'ns-users-g1,ns-facts-g1')).toThrow(/ns-users-g1,ns-facts-g1: 1 of 2 shards failed/);
  });
});
