import { describe, expect, it } from 'vitest';
import { heapGrowth, MIN_GROWING_PERCENT } from '../../src/memory-budget.ts';

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
