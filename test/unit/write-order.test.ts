/**
 * The write order (src/projector/write-order.ts): a round writes only after every earlier round of
 * its accounts has written or ended, whatever order they end in.
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

  it('a round whose last write is made lets the next round of its accounts write before it ends, and says whether one waits', async () => {
    const order = createWriteOrder();
    const alone = order.enter(['acc_b']);
    expect(alone.written()).toBe(false);
    const first = order.enter(['acc_a']);
    const second = order.enter(['acc_a']);
    const third = order.enter(['acc_a']);
    expect(await settled(second.prior)).toBe(false);
    expect(first.written()).toBe(true);
    expect(await settled(second.prior)).toBe(true);
    // The third waits for the second, written or ended, whatever the first does after its write.
    expect(await settled(third.prior)).toBe(false);
    first.done();
    expect(await settled(third.prior)).toBe(false);
    expect(second.written()).toBe(true);
    expect(await settled(third.prior)).toBe(true);
    second.done();
    third.done();
    alone.done();
    await settled(Promise.resolve());
    expect(order.size()).toBe(0);
  });

  it('a round may join the earlier rounds of its accounts while their writes wait in the group, not once one is being written, failed or not joined', async () => {
    const order = createWriteOrder();
    const state = (s: 'waiting' | 'writing' | 'written' | 'failed') => ({ state: s });
    const first = order.enter(['acc_a']);
    const other = order.enter(['acc_b']);
    const second = order.enter(['acc_a', 'acc_b']);
    // Not joined yet: the second waits for prior.
    expect(second.behind()).toBeUndefined();
    const a = state('waiting');
    const b = state('waiting');
    first.joined(a);
    expect(second.behind()).toBeUndefined();
    other.joined(b);
    expect(second.behind()).toEqual([a, b]);
    a.state = 'writing';
    expect(second.behind()).toBeUndefined();
    a.state = 'failed';
    expect(second.behind()).toBeUndefined();
    a.state = 'written';
    expect(second.behind()).toEqual([b]);
    // One that has ended is no longer behind anything.
    other.done();
    await settled(Promise.resolve());
    b.state = 'failed';
    expect(second.behind()).toEqual([]);
    first.done();
    second.done();
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

  it('a round taken before a delete was written drops its older index of that document; the delete is forgotten once every such round has ended', async () => {
    const order = createWriteOrder();
    const earlier = order.enter(['acc_a']);
    const later = order.enter(['acc_a']);
    // The earlier round tried again: it reloaded the account at version 12 (the later round's
    // commits included) and wrote its outbox, a user's delete among it.
    earlier.wrote([{ op: 'delete', index: 'users', id: 'acc_a/u4', version: 12 }]);
    earlier.done();
    const held = [
      { op: 'index', index: 'users', id: 'acc_a/u4', version: 7, doc: '{}' },
      { op: 'index', index: 'users', id: 'acc_a/u1', version: 7, doc: '{}' },
      { op: 'delete', index: 'users', id: 'acc_a/u4', version: 7 },
      { op: 'index', index: 'facts', id: 'acc_a/u4', version: 7, doc: '{}' },
    ] as const;
    expect(later.keep(held)).toEqual(held.slice(1));
    const after = order.enter(['acc_a']);
    expect(after.keep([{ op: 'index', index: 'users', id: 'acc_a/u4', version: 13, doc: '{}' }])).toHaveLength(1);
    expect(order.remembered()).toBe(1);
    later.done();
    expect(order.remembered()).toBe(0);
    after.done();
  });
});
