import { describe, expect, it } from 'vitest';
import { type Consumed, createLanes } from '../../src/projector/lanes.ts';
import type { PositionedEvent } from '../../src/projector/plan-batch.ts';

/** A stand-in event: the lanes only look at offsets and accounts. */
function ev(offset: number): PositionedEvent {
  return { offset: BigInt(offset), event: { id: `e${offset}` } as unknown as PositionedEvent['event'] };
}

function batch(first: number, last: number, accounts: Record<number, string>) {
  const events = [];
  for (let o = first; o <= last; o++) if (accounts[o]) events.push({ accountId: accounts[o]!, event: ev(o) });
  return { firstOffset: BigInt(first), last: BigInt(last), highWatermark: BigInt(last + 1), events };
}

const all = (round: NonNullable<ReturnType<ReturnType<typeof createLanes>['take']>>): Consumed =>
  new Map(round.parts.map((p) => [`${p.source.topic}:${p.source.partition}`, new Map([...p.byAccount].map(([a, list]) => [a, list.length]))]));

describe('the lanes', () => {
  it('hand every account its events in offset order, one part per partition', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 4, { 0: 'a', 1: 'b', 2: 'a', 4: 'b' }));
    const round = lanes.take()!;
    expect(round.parts).toHaveLength(1);
    expect([...round.parts[0]!.byAccount].map(([a, list]) => [a, list.map((e) => Number(e.offset))])).toEqual([
      ['a', [0, 2]],
      ['b', [1, 4]],
    ]);
    expect(round.bounds).toEqual([{ field: 't:0', firstOffset: 0n, highWatermark: 5n }]);
  });

  it('raise a partition only up to its first unfinished event, whoever finished after it', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 10n);
    lanes.add('t:0', batch(10, 15, { 10: 'big', 11: 'small', 12: 'big', 14: 'small' }));
    const round = lanes.take()!;
    // the big account finished one of its two events, the small one both
    const consumed: Consumed = new Map([
      [
        't:0',
        new Map([
          ['big', 1],
          ['small', 2],
        ]),
      ],
    ]);
    const raises = lanes.raises(round, consumed);
    expect(raises.get('t:0')).toEqual({ from: 10n, to: 11n });
    lanes.settle(round, consumed, raises);
    expect(lanes.queued()).toBe(1);
    const next = lanes.take()!;
    expect([...next.parts[0]!.byAccount].map(([a, list]) => [a, list.map((e) => Number(e.offset))])).toEqual([['big', [12]]]);
    expect(next.bounds[0]!.firstOffset).toBe(12n);
    const rest = lanes.raises(next, all(next));
    // offsets 13 (another account's poison, say) and 15 had no events here: the prefix reaches the batch's last
    expect(rest.get('t:0')).toEqual({ from: 12n, to: 15n });
    lanes.settle(next, all(next), rest);
    expect(lanes.take()).toBeUndefined();
    expect(lanes.prefixes().get('t:0')).toBe(15n);
  });

  it('give a heavy account a round of its own, and leave busy accounts for a later round', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 5, { 0: 'small', 1: 'big', 2: 'other', 3: 'big', 4: 'busy', 5: 'small' }));
    const accounts = (round: ReturnType<typeof lanes.take>) => round!.parts.flatMap((p) => [...p.byAccount.keys()]);
    const heavy = (a: string) => a === 'big';
    // light accounts together, the heavy one and the busy one left out
    expect(accounts(lanes.take(new Set(['busy']), heavy))).toEqual(['small', 'other']);
    // served accounts went to the back: the heavy one comes first now, alone
    expect(accounts(lanes.take(new Set(['busy']), heavy))).toEqual(['big']);
    expect(accounts(lanes.take(new Set(), heavy))).toEqual(['busy', 'small', 'other']);
  });

  it('keep accounts catching up apart from accounts with a few events waiting', () => {
    const lanes = createLanes({ maxQueued: 100, backlogEvents: 3 });
    lanes.reset('t:0', 0n);
    lanes.reset('t:1', 0n);
    // 'big' has 5 events waiting over two partitions, 'busy' 4; 'small' and 'other' one each
    lanes.add('t:0', batch(0, 5, { 0: 'big', 1: 'small', 2: 'big', 3: 'busy', 4: 'busy', 5: 'big' }));
    lanes.add('t:1', batch(0, 3, { 0: 'big', 1: 'big', 2: 'busy', 3: 'other' }));
    lanes.add('t:0', batch(6, 6, { 6: 'busy' }));
    const accounts = (round: ReturnType<typeof lanes.take>) => [...new Set(round!.parts.flatMap((p) => [...p.byAccount.keys()]))];
    expect(accounts(lanes.take())).toEqual(['big', 'busy']);
    expect(accounts(lanes.take(new Set(['big', 'busy'])))).toEqual(['small', 'other']);
  });

  it('raise a partition whose batch held only poison', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:1', 0n);
    lanes.add('t:1', batch(0, 2, {}));
    const round = lanes.take()!;
    expect(round.parts).toEqual([]);
    const raises = lanes.raises(round, new Map());
    expect(raises.get('t:1')).toEqual({ from: 0n, to: 2n });
  });

  it('offer a round that only raises once at a time: not while the caller has one in flight, and no longer once it settled', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 1, { 0: 'a', 1: 'b' }));
    // 'b' (offset 1) finishes before 'a' (offset 0): its round can raise nothing.
    const first = lanes.take(new Set(['b']))!;
    const second = lanes.take(new Set(['a']))!;
    lanes.settle(second, all(second), lanes.raises(second, all(second)));
    lanes.settle(first, all(first), lanes.raises(first, new Map()));
    expect(lanes.prefixes().get('t:0')).toBe(-1n);
    // Offset 0 and 1 are finished, not raised: only a round without events raises them.
    expect(lanes.take(new Set(), () => false, false)).toBeUndefined();
    const raising = lanes.take()!;
    expect(raising.parts).toEqual([]);
    expect(raising.kind).toBeUndefined();
    // While it is in flight the lanes would offer the same raise again: the caller says no.
    expect(lanes.take()!.bounds).toEqual(raising.bounds);
    expect(lanes.take(new Set(), () => false, false)).toBeUndefined();
    lanes.settle(raising, new Map(), lanes.raises(raising, new Map()));
    expect(lanes.prefixes().get('t:0')).toBe(1n);
    expect(lanes.take()).toBeUndefined();
    // Events are taken whatever the flag says.
    lanes.add('t:0', batch(2, 2, { 2: 'a' }));
    expect(lanes.take(new Set(), () => false, false)!.parts).toHaveLength(1);
  });

  it('keep what arrives during a round for the next, and raise only what the round was told', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 1, { 0: 'a', 1: 'a' }));
    const round = lanes.take()!;
    const raises = lanes.raises(round, all(round));
    lanes.add('t:0', batch(2, 3, { 3: 'a' }));
    lanes.settle(round, all(round), raises);
    expect(lanes.prefixes().get('t:0')).toBe(1n);
    const next = lanes.take()!;
    expect(next.bounds[0]!.firstOffset).toBe(2n);
    expect([...next.parts[0]!.byAccount.get('a')!].map((e) => Number(e.offset))).toEqual([3]);
  });

  it('drop a partition that is sought back, and settle nothing of it from a round taken before', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 3, { 0: 'a', 1: 'b', 2: 'a', 3: 'b' }));
    const round = lanes.take()!;
    const raises = lanes.raises(round, all(round));
    lanes.reset('t:0', 1n);
    lanes.settle(round, all(round), raises);
    expect(lanes.queued()).toBe(0);
    expect(lanes.prefixes().get('t:0')).toBe(0n);
    lanes.add('t:0', batch(1, 3, { 1: 'b', 2: 'a', 3: 'b' }));
    expect(lanes.queued()).toBe(3);
    expect(lanes.take()!.bounds[0]!.firstOffset).toBe(1n);
  });

  it('name the first offset of a batch that skipped offsets, for the continuity check to find the gap', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 5n);
    lanes.add('t:0', batch(9, 10, { 9: 'a' }));
    expect(lanes.take()!.bounds[0]!.firstOffset).toBe(9n);
  });

  it('ignore a batch delivered again, and events at or before what was received', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 2, { 0: 'a', 1: 'a', 2: 'a' }));
    lanes.add('t:0', batch(0, 2, { 0: 'a', 1: 'a', 2: 'a' }));
    lanes.add('t:0', batch(1, 3, { 1: 'a', 2: 'a', 3: 'a' }));
    expect(lanes.queued()).toBe(4);
  });

  it('hold eachBatch back while more than the budget waits, and let it go once a round settles', async () => {
    const lanes = createLanes({ maxQueued: 2 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 2, { 0: 'a', 1: 'b', 2: 'c' }));
    let free = false;
    const room = lanes.room().then(() => (free = true));
    await new Promise((r) => setImmediate(r));
    expect(free).toBe(false);
    const round = lanes.take()!;
    lanes.settle(round, all(round), lanes.raises(round, all(round)));
    await room;
    expect(free).toBe(true);
  });

  it('once released (stopping), never hold eachBatch back again, full as they are', async () => {
    const lanes = createLanes({ maxQueued: 2 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 2, { 0: 'a', 1: 'b', 2: 'c' }));
    const waiting = lanes.room();
    lanes.release();
    await waiting;
    // A batch kafkajs delivers before the consumer stops: no round will take it.
    lanes.add('t:0', batch(3, 5, { 3: 'a', 4: 'b', 5: 'c' }));
    let free = false;
    void lanes.room().then(() => (free = true));
    await new Promise((r) => setImmediate(r));
    expect(free).toBe(true);
  });

  it('once a round commits, hand its account’s later events to the next round, never the ones it still writes; give back what it did not consume', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 3, { 0: 'a', 1: 'a', 2: 'a' }));
    const first = lanes.take()!;
    // it consumed two of its three events (its work budget ran out), committed them, and still writes
    const consumed: Consumed = new Map([['t:0', new Map([['a', 2]])]]);
    const raises = lanes.raises(first, consumed);
    lanes.commit(first, consumed);
    expect(first.parts[0]!.byAccount.get('a')!.map((e) => Number(e.offset))).toEqual([0, 1]);
    lanes.add('t:0', batch(4, 4, { 4: 'a' }));
    const second = lanes.take()!;
    expect(second.parts[0]!.byAccount.get('a')!.map((e) => Number(e.offset))).toEqual([2, 4]);
    // nothing else of the account is free while both are in flight
    expect(lanes.take(new Set(['a']))).toBeUndefined();
    // the second ends first: the prefix waits for the first's events
    const rest = lanes.raises(second, all(second));
    expect(rest.get('t:0')).toBeUndefined();
    lanes.settle(second, all(second), rest);
    expect(lanes.queued()).toBe(2);
    lanes.settle(first, consumed, raises);
    expect(lanes.queued()).toBe(0);
    expect(lanes.prefixes().get('t:0')).toBe(1n);
    // a round of no events raises the rest
    const raiseOnly = lanes.take()!;
    lanes.settle(raiseOnly, all(raiseOnly), lanes.raises(raiseOnly, all(raiseOnly)));
    expect(lanes.prefixes().get('t:0')).toBe(4n);
  });

  it('give back the events of a committed round that fails for good, before the later ones of its account, and commit a round once', () => {
    const lanes = createLanes({ maxQueued: 100 });
    lanes.reset('t:0', 0n);
    lanes.add('t:0', batch(0, 1, { 0: 'a', 1: 'b' }));
    const first = lanes.take()!;
    lanes.commit(first, all(first));
    // a retry commits again with what it found applied: nothing changes
    lanes.commit(first, new Map());
    expect(first.parts[0]!.byAccount.size).toBe(2);
    lanes.add('t:0', batch(2, 2, { 2: 'a' }));
    const second = lanes.take()!;
    expect(second.parts[0]!.byAccount.get('a')!.map((e) => Number(e.offset))).toEqual([2]);
    lanes.commit(second, all(second));
    lanes.giveBack(first);
    const again = lanes.take()!;
    expect(new Map([...again.parts[0]!.byAccount].map(([a, list]) => [a, list.map((e) => Number(e.offset))]))).toEqual(
      new Map([
        ['a', [0]],
        ['b', [1]],
      ]),
    );
    lanes.settle(second, all(second), lanes.raises(second, all(second)));
    lanes.settle(again, all(again), lanes.raises(again, all(again)));
    expect(lanes.queued()).toBe(0);
    expect(lanes.prefixes().get('t:0')).toBe(2n);
  });
});
