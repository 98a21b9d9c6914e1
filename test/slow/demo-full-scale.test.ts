/**
 * The benchmark preset at full scale: 2,000,000 events generated and counted as they stream by
 * (about 10 s of one core). Slow, so it lives in the `slow` project: `npm test` runs it,
 * `npm run test:unit` does not.
 */
import { describe, expect, it } from 'vitest';
import { benchPreset, generateHistory, type HistoryOptions } from '../../src/demo/generator.ts';
import { createHistoryStats, type HistoryStats } from '../../src/demo/stats.ts';

/** Streams the whole history through the counters: no event is kept. */
function statsOf(options: HistoryOptions): HistoryStats {
  const stats = createHistoryStats();
  for (const event of generateHistory(options)) stats.add(event);
  return stats.result();
}

describe('the bench preset at full scale', () => {
  it('creates what it plans at full scale, with role changes that reach thousands of users', { timeout: 120_000 }, () => {
    const started = performance.now();
    const stats = statsOf({ seed: 42, ...benchPreset(1) });
    const seconds = (performance.now() - started) / 1000;
    expect(stats.events).toBe(2_000_000);
    expect(stats.created.users).toBeGreaterThanOrEqual(200_000);
    expect(stats.created.queues).toBeGreaterThanOrEqual(5_000);
    expect(stats.created.inboxes).toBeGreaterThanOrEqual(2_000);
    expect(stats.reusedIds).toBe(0);
    expect(Math.max(...stats.recordingFanOuts)).toBeGreaterThan(1_000);
    const membership = (stats.byType['queue.member_assigned'] ?? 0) + (stats.byType['queue.member_unassigned'] ?? 0);
    for (const n of Object.values(stats.byType)) expect(n).toBeLessThanOrEqual(membership);
    console.info(
      `bench(1): ${stats.events.toLocaleString('en')} events in ${seconds.toFixed(1)} s (${Math.round(stats.events / seconds).toLocaleString('en')}/s); ` +
        `created ${stats.created.users} users, ${stats.created.queues} queues, ${stats.created.inboxes} inboxes, ${stats.created.roles} roles; ` +
        `${stats.recordingFanOuts.filter((n) => n > 1_000).length} recording changes reach > 1,000 users (max ${Math.max(...stats.recordingFanOuts)})`,
    );
  });
});
