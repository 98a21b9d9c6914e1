/** Slots for heavy work (src/api/slots.ts, decision 54): at most `size` at once, the rest in arrival order. */
import { describe, expect, it } from 'vitest';
import { createSlots } from '../../src/api/slots.ts';

/** A task that runs until told to finish, recording when it started. */
function gated(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('slots', () => {
  it('runs at most `size` at once and starts the others in arrival order as slots free', async () => {
    const slots = createSlots(2);
    const log: string[] = [];
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => gated(log, n));
    const results = [a, b, c, d].map((t) => slots.run(t!.run));
    await turn();
    expect(log).toEqual(['start a', 'start b']);
    expect(slots.waiting()).toBe(2);
    b!.finish();
    await turn();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    a!.finish();
    c!.finish();
    d!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('gives the slot back when the work fails, and a release given twice frees one slot only', async () => {
    const slots = createSlots(1);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const release = await slots.acquire();
    let second = false;
    const next = slots.acquire().then((r) => {
      second = true;
      return r;
    });
    release();
    release();
    const third = slots.acquire();
    await turn();
    expect(second).toBe(true);
    expect(slots.waiting()).toBe(1);
    (await next)();
    (await third)();
  });
});
