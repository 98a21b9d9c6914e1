import { describe, expect, it } from 'vitest';
import { heapGrowth, MIN_GROWING_PERCENT, pastBudget } from '../../src/memory-budget.ts';

const MiB = 2 ** 20;

describe('heapGrowth: the growing factor that keeps the next collection within the budget', () => {
  it('leaves V8 its own factor while even its largest (4× the live heap) fits', () => {
    expect(heapGrowth({ live: 200 * MiB, outsideHeap: 100 * MiB }, 1024 * MiB)).toEqual({ percent: 0, over: false });
  });

  it('lets the heap grow only into the room left: live × (1 + percent) + outside ≤ budget', () => {
    const decision = heapGrowth({ live: 400 * MiB, outsideHeap: 224 * MiB }, 1024 * MiB);
    expect(decision).toEqual({ percent: 100, over: false });
    const tighter = heapGrowth({ live: 600 * MiB, outsideHeap: 224 * MiB }, 1024 * MiB);
    expect(tighter.percent).toBe(33);
    expect(600 * (1 + tighter.percent / 100) + 224).toBeLessThanOrEqual(1024);
  });

  it('never collects continuously: past the budget it keeps the least room and says the budget is too small', () => {
    expect(heapGrowth({ live: 900 * MiB, outsideHeap: 224 * MiB }, 1024 * MiB)).toEqual({ percent: MIN_GROWING_PERCENT, over: true });
    expect(heapGrowth({ live: 780 * MiB, outsideHeap: 224 * MiB }, 1024 * MiB)).toEqual({ percent: MIN_GROWING_PERCENT, over: true });
  });
});

describe('pastBudget: when the budget collects at once instead of waiting for V8', () => {
  const usage = (heapUsed: number, heapTotal: number, rss: number, external = 10 * MiB): NodeJS.MemoryUsage => ({ heapUsed, heapTotal, rss, external, arrayBuffers: external });

  it('collects when the heap in use and what lies outside it pass the budget, although what was alive fitted', () => {
    const last = { live: 400 * MiB, outsideHeap: 250 * MiB };
    // 1,150 MiB in use (garbage mostly) and 240 MiB resident outside the heap: past 1,280.
    expect(pastBudget(usage(1150 * MiB, 1200 * MiB, 1440 * MiB), last, 1280 * MiB)).toBe(true);
    // The same heap with less outside it stays within.
    expect(pastBudget(usage(1150 * MiB, 1200 * MiB, 1300 * MiB), last, 1280 * MiB)).toBe(false);
  });

  it('counts what lies outside the heap as at least the buffers and Node’s own share', () => {
    // rss − heapTotal is only 20 MiB, but 150 MiB of buffers are out there.
    expect(pastBudget(usage(1100 * MiB, 1150 * MiB, 1170 * MiB, 150 * MiB), undefined, 1280 * MiB)).toBe(true);
    expect(pastBudget(usage(1000 * MiB, 1150 * MiB, 1170 * MiB, 50 * MiB), undefined, 1280 * MiB)).toBe(false);
  });

  it('does not collect when what was alive at the last collection already fills the budget: a collection would free too little', () => {
    expect(pastBudget(usage(1300 * MiB, 1350 * MiB, 1600 * MiB), { live: 1100 * MiB, outsideHeap: 250 * MiB }, 1280 * MiB)).toBe(false);
  });
});
