/**
 * The write order (src/projector/write-order.ts): a round writes only after every earlier round of
 * its accounts has ended, whatever order they end in.
 */
import { describe, expect, it } from 'vitest';
import { createWriteOrder } from '../../src/projector/write-order.ts';

/** Whether the promise has settled once every pending callback has run. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('the write order', () => {
  it('a round waits for the earlier rounds of its accounts only', async () => {
    const order = createWriteOrder();
    const a = order.enter(['acc_a']);
    const b = order.enter(['acc_b']);
    const c = order.enter(['acc_a', 'acc_b']);
    expect(await settled(a.prior)).toBe(true);
    expect(await settled(b.prior)).toBe(true);
    expect(await settled(c.prior)).toBe(false);
    a.done();
    expect(await settled(c.prior)).toBe(false);
    b.done();
    expect(await settled(c.prior)).toBe(true);
    c.done();
    await settled(Promise.resolve());
    expect(order.size()).toBe(0);
  });

  it('a round that ends early (given back) does not let the next one write before an earlier round still writing', async () => {
    const order = createWriteOrder();
    const writing = order.enter(['acc_a']);
    const givenBack = order.enter(['acc_a']);
    givenBack.done();
    const next = order.enter(['acc_a']);
    expect(await settled(next.prior)).toBe(false);
    expect(order.size()).toBe(1);
    writing.done();
    expect(await settled(next.prior)).toBe(true);
    next.done();
    await settled(Promise.resolve());
    expect(order.size()).toBe(0);
  });
});
