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

  it('holds a refresh back while `holdRefresh` says so, whatever its weight; other writes go on, and it goes first once it no longer does', async () => {
    let hold = true;
    const gate = createWriteGate({ holdRefresh: () => hold });
    const order: string[] = [];
    const step = (name: string) => gate.run(async () => void order.push(name), 1);
    await step('slice 1');
    const refresh = gate.refresh(async () => void order.push('refresh'));
    await step('small write');
    hold = false;
    const later = step('slice 2');
    await Promise.all([refresh, later]);
    expect(order).toEqual(['slice 1', 'small write', 'refresh', 'slice 2']);
  });

  it('passes on a failure and still lets the next holder in', async () => {
    const gate = createWriteGate();
    await expect(gate.run(async () => Promise.reject(new Error('bulk refused')))).rejects.toThrow('bulk refused');
    expect(await gate.run(async () => 'next')).toBe('next');
  });
});
