import { describe, expect, it } from 'vitest';
import { benchPreset, demoPreset, generateHistory, testPreset, type HistoryOptions } from '../../src/demo/generator.ts';
import { createHistoryStats, type HistoryStats } from '../../src/demo/stats.ts';

/** Streams the whole history through the counters: no event is kept. */
function statsOf(options: HistoryOptions): HistoryStats {
  const stats = createHistoryStats();
  for (const event of generateHistory(options)) stats.add(event);
  return stats.result();
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('the test preset', () => {
  it('has 3 accounts, hundreds of users, dozens of queues and inboxes, thousands of events on all four topics', () => {
    const stats = statsOf({ seed: 42, ...testPreset() });
    expect(stats.accounts).toBe(3);
    expect(stats.events).toBe(6_000);
    expect(stats.created.users).toBeGreaterThanOrEqual(460);
    expect(stats.created.users).toBeLessThan(1_000);
    expect(stats.created.queues).toBeGreaterThanOrEqual(62);
    expect(stats.created.inboxes).toBeGreaterThanOrEqual(30);
    for (const topic of ['users', 'roles', 'queues', 'inboxes'] as const) expect(stats.byTopic[topic], topic).toBeGreaterThan(100);
    expect(stats.reusedIds).toBe(0);
  });
});

describe('the demo preset', () => {
  it('has centers of 50, 400 and 2,000 agents, thousands of users, about 30,000 events', () => {
    const preset = demoPreset();
    expect(preset.accounts.map((a) => a.agents)).toEqual([50, 400, 2_000]);
    const stats = statsOf({ seed: 42, ...preset });
    expect(stats.events).toBe(30_000);
    expect(stats.created.users).toBeGreaterThanOrEqual(2_450);
    expect(stats.created.queues).toBeGreaterThanOrEqual(120);
    expect(stats.created.inboxes).toBeGreaterThanOrEqual(56);
    expect(stats.reusedIds).toBe(0);
    // The recording pilot: the Agent role of the 2,000-agent center gains, then loses, a recording privilege.
    expect(stats.recordingFanOuts.filter((n) => n > 1_000)).toHaveLength(2);
  });
});

describe('the bench preset', () => {
  it('plans 200,000 users, 5,000 queues, 2,000 inboxes, 2,000,000 events, from 50 to 50,000 agents', () => {
    const { accounts } = benchPreset(1);
    const agents = accounts.map((a) => a.agents);
    expect(sum(agents)).toBeGreaterThanOrEqual(200_000);
    expect(sum(accounts.map((a) => a.queues))).toBeGreaterThanOrEqual(5_000);
    expect(sum(accounts.map((a) => a.inboxes))).toBeGreaterThanOrEqual(2_000);
    expect(sum(accounts.map((a) => a.events))).toBeGreaterThanOrEqual(2_000_000);
    expect(Math.min(...agents)).toBe(50);
    expect(Math.max(...agents)).toBe(50_000);
    expect(agents).toEqual(expect.arrayContaining([50, 500, 5_000, 20_000, 50_000]));
    expect(accounts.length).toBeGreaterThan(100);
  });

  it('shrinks linearly with the scale', () => {
    const at = (scale: number) => statsOf({ seed: 42, ...benchPreset(scale) });
    const small = at(0.02);
    const large = at(0.1);
    // Users and events scale with the factor; queues and inboxes too, except that no account has
    // fewer than one of each, which weighs on the smallest scales.
    expect(large.events / small.events).toBeCloseTo(5, 0);
    expect(large.created.users / small.created.users).toBeGreaterThan(4.5);
    expect(large.created.users / small.created.users).toBeLessThan(5.5);
    expect(large.events).toBeGreaterThanOrEqual(200_000);
    expect(large.created.users).toBeGreaterThanOrEqual(20_000);
    expect(large.created.queues).toBeGreaterThanOrEqual(500);
    expect(large.created.inboxes).toBeGreaterThanOrEqual(200);
    expect(() => benchPreset(0)).toThrow(RangeError);
  });
});
