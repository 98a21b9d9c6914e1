import { describe, expect, it } from 'vitest';
import { createWriteGate } from '../../src/projector/write-gate.ts';

describe('the write gate', () => {
  it('runs one holder at a time; of those waiting, the lightest first, equal weights in arrival order', async () => {
    const gate = createWriteGate();
    const order: string[] = [];
    let inside = 0;
    let most = 0;
    const hold = (name: string, weight: number) =>
      gate.run(async () => {
        inside += 1;
        most = Math.max(most, inside);
        order.push(name);
        await new Promise((r) => setTimeout(r, 5));
        inside -= 1;
      }, weight);
    // The first takes the gate at once; the rest wait and go by weight.
    await Promise.all([hold('big write under way', 5_000), hold('big write', 9_000), hold('small write', 3), hold('refresh', 0), hold('another small write', 3)]);
    expect(order).toEqual(['big write under way', 'refresh', 'small write', 'another small write', 'big write']);
    expect(most).toBe(1);
  });

  it('passes on a failure and still lets the next holder in', async () => {
    const gate = createWriteGate();
    await expect(gate.run(async () => Promise.reject(new Error('bulk refused')))).rejects.toThrow('bulk refused');
    expect(await gate.run(async () => 'next')).toBe('next');
  });

  it('a refresh never runs while a write spans turns, whatever its weight; other writes go between the turns, and it goes first once the span ends', async () => {
    const gate = createWriteGate();
    const order: string[] = [];
    const step = (name: string, weight = 1) => gate.run(async () => void order.push(name), weight);
    const end = gate.span();
    await step('slice 1');
    const refresh = gate.refresh(async () => void order.push('refresh'));
    await step('small write');
    await step('slice 2');
    const later = step('write after the span', 1);
    end();
    end(); // a second call changes nothing
    await Promise.all([refresh, later]);
    expect(order).toEqual(['slice 1', 'small write', 'slice 2', 'refresh', 'write after the span']);
    // No span open: a refresh goes at once.
    await gate.refresh(async () => void order.push('refresh again'));
    expect(order.at(-1)).toBe('refresh again');
    // The second call above did not close the next span before its time.
    const next = gate.span();
    const held = gate.refresh(async () => void order.push('refresh after the next span'));
    await step('slice of the next span');
    next();
    await held;
    expect(order.slice(-2)).toEqual(['slice of the next span', 'refresh after the next span']);
  });
});
