import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.ts';

const gaugeLines = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.registry.metrics()).split('\n').filter((line) => line.startsWith('access_index_account_cache_bytes{'));

describe('the account cache gauge', () => {
  it('reads the sizes of every watched cache at each scrape, and stops reading a cache once unwatched', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    expect(await gaugeLines(metrics)).toEqual([]);
    let live = { all: 300, held: 100 };
    const unwatchLive = metrics.watchAccountCache(() => live);
    metrics.watchAccountCache(() => ({ all: 50, held: 0 }));
    expect(await gaugeLines(metrics)).toEqual(['access_index_account_cache_bytes{part="all"} 350', 'access_index_account_cache_bytes{part="held"} 100']);
    live = { all: 400, held: 0 };
    expect(await gaugeLines(metrics)).toEqual(['access_index_account_cache_bytes{part="all"} 450', 'access_index_account_cache_bytes{part="held"} 0']);
    unwatchLive();
    expect(await gaugeLines(metrics)).toEqual(['access_index_account_cache_bytes{part="all"} 50', 'access_index_account_cache_bytes{part="held"} 0']);
  });
});
