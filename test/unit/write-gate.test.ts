import { describe, expect, it } from 'vitest';
import { SMALL_WRITE, createWriteGate } from '../../src/projector/write-gate.ts';

/** A holder that records when it is in, and leaves when told (or after `ms`). */
function recorder() {
  const events: string[] = [];
  const inside = new Set<string>();
  let overlapWithAlone = false;
  const leave = new Map<string, () => void>();
  const body = (name: string, alone: boolean) => async () => {
    if (alone && inside.size > 0) overlapWithAlone = true;
    if (!alone && [...inside].some((n) => n.startsWith('refresh'))) overlapWithAlone = true;
    inside.add(name);
    events.push(`+${name}`);
    await new Promise<void>((resolve) => leave.set(name, resolve));
    inside.delete(name);
    events.push(`-${name}`);
  };
  const tick = () => new Promise((r) => setTimeout(r, 1));
  return { events, inside, body, leave: async (name: string) => (leave.get(name)!(), tick()), tick, overlap: () => overlapWithAlone };
}

describe('the write gate', () => {
  it('run alone is a lock by weight: one holder at a time; of those waiting, the lightest first, equal weights in arrival order', async () => {
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
    await Promise.all([hold('big under way', 5_000), hold('big', 9_000), hold('small', 3), hold('refresh', 0), hold('another small', 3)]);
    expect(order).toEqual(['big under way', 'refresh', 'small', 'another small', 'big']);
    expect(most).toBe(1);
  });

  it('writes share the gate; a refresh waits for the writes in and keeps big writes out meanwhile, and never overlaps a write', async () => {
    const gate = createWriteGate();
    const r = recorder();
    const done = [gate.share(r.body('a', false), 5_000), gate.share(r.body('b', false), 50)];
    await r.tick();
    expect([...r.inside].sort()).toEqual(['a', 'b']);
    done.push(gate.run(r.body('refresh', true)));
    done.push(gate.share(r.body('c big', false), 5_000));
    await r.tick();
    await r.leave('b');
    await r.leave('a');
    // Both writes out: the refresh goes in alone, the big write after it.
    expect([...r.inside]).toEqual(['refresh']);
    await r.leave('refresh');
    expect([...r.inside]).toEqual(['c big']);
    await r.leave('c big');
    await Promise.all(done);
    expect(r.overlap()).toBe(false);
  });

  it(`a small write (≤ ${SMALL_WRITE} documents) passes a waiting refresh while a big write is in, not once only small ones are`, async () => {
    const gate = createWriteGate();
    const r = recorder();
    const done = [gate.share(r.body('big', false), 20_000)];
    await r.tick();
    done.push(gate.run(r.body('refresh', true)));
    done.push(gate.share(r.body('small', false), 12));
    await r.tick();
    // The small account's write does not wait for the neighbour's thousands.
    expect([...r.inside].sort()).toEqual(['big', 'small']);
    await r.leave('big');
    done.push(gate.share(r.body('small after', false), 12));
    await r.tick();
    // No big write is in any more: the refresh is next, the new small write waits for it.
    expect([...r.inside]).toEqual(['small']);
    await r.leave('small');
    expect([...r.inside]).toEqual(['refresh']);
    await r.leave('refresh');
    expect([...r.inside]).toEqual(['small after']);
    await r.leave('small after');
    await Promise.all(done);
    expect(r.overlap()).toBe(false);
  });

  it('passes on a failure and still lets the next holder in', async () => {
    const gate = createWriteGate();
    await expect(gate.run(async () => Promise.reject(new Error('bulk refused')))).rejects.toThrow('bulk refused');
    await expect(gate.share(async () => Promise.reject(new Error('bulk refused')), 10)).rejects.toThrow('bulk refused');
    expect(await gate.run(async () => 'next')).toBe('next');
  });
});
