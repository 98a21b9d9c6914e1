import { describe, expect, it } from 'vitest';
import { STARVED_FETCHES, createActivity, createPartitionWatch, createProgressWatch } from '../../src/projector/progress-watch.ts';

/** A clock the test moves by hand. */
function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('the progress watch', () => {
  it('calls it a stall only once events have waited the stall time with no step made, and says once when it began and when it ended', () => {
    const c = clock();
    const watch = createProgressWatch({ stallMs: 60_000, now: c.now });
    expect(watch.observe({ behind: 500, steps: 10, idle: false, fetching: true, stuckMs: 0 })).toEqual({ stalledMs: 0, began: false, ended: false, restartConsumer: false });
    c.advance(59_000);
    expect(watch.observe({ behind: 500, steps: 10, idle: false, fetching: true, stuckMs: 0 }).stalledMs).toBe(0);
    c.advance(1_000);
    expect(watch.observe({ behind: 500, steps: 10, idle: false, fetching: true, stuckMs: 0 })).toEqual({ stalledMs: 60_000, began: true, ended: false, restartConsumer: false });
    c.advance(5_000);
    expect(watch.observe({ behind: 500, steps: 10, idle: false, fetching: true, stuckMs: 0 })).toEqual({ stalledMs: 65_000, began: false, ended: false, restartConsumer: false });
    // One step made ends it.
    c.advance(5_000);
    expect(watch.observe({ behind: 500, steps: 11, idle: false, fetching: true, stuckMs: 0 })).toEqual({ stalledMs: 0, began: false, ended: true, restartConsumer: false });
  });

  it('never calls an idle projector stalled while nothing waits, or while its consumer fetches (a lag that is a commit marker), however long no step is made', () => {
    const c = clock();
    const watch = createProgressWatch({ stallMs: 10_000, now: c.now });
    for (let i = 0; i < 20; i++) {
      c.advance(5_000);
      expect(watch.observe({ behind: 0, steps: 3, idle: true, fetching: false, stuckMs: 0 }).stalledMs).toBe(0);
      expect(watch.observe({ behind: 1, steps: 3, idle: true, fetching: true, stuckMs: 0 }).stalledMs).toBe(0);
    }
    // Events arrive: the time counts from their first sample, not from the last step.
    expect(watch.observe({ behind: 7, steps: 3, idle: true, fetching: false, stuckMs: 0 }).stalledMs).toBe(0);
    c.advance(9_000);
    expect(watch.observe({ behind: 7, steps: 3, idle: true, fetching: false, stuckMs: 0 }).stalledMs).toBe(0);
  });

  it('restarts the consumer only when nothing is in flight, and then at most once per stall time', () => {
    const c = clock();
    const watch = createProgressWatch({ stallMs: 10_000, now: c.now });
    watch.observe({ behind: 40, steps: 1, idle: false, fetching: true, stuckMs: 0 });
    c.advance(10_000);
    // Something in flight (a round, a publish): the consumer is not what stopped; a stall all the same.
    expect(watch.observe({ behind: 40, steps: 1, idle: false, fetching: true, stuckMs: 0 })).toMatchObject({ began: true, restartConsumer: false });
    c.advance(5_000);
    expect(watch.observe({ behind: 40, steps: 1, idle: true, fetching: false, stuckMs: 0 }).restartConsumer).toBe(true);
    c.advance(5_000);
    expect(watch.observe({ behind: 40, steps: 1, idle: true, fetching: false, stuckMs: 0 }).restartConsumer).toBe(false);
    c.advance(5_000);
    expect(watch.observe({ behind: 40, steps: 1, idle: true, fetching: false, stuckMs: 0 }).restartConsumer).toBe(true);
  });

  it('keeps its restart for a lag sample taken after the last step, and restarts on the next one', () => {
    const c = clock();
    const watch = createProgressWatch({ stallMs: 10_000, now: c.now });
    watch.observe({ behind: 40, steps: 1, idle: true, fetching: false, stuckMs: 0, sampledSinceStep: false });
    c.advance(10_000);
    // A sample from before the last step may count events done since: a stall, but no restart on it.
    expect(watch.observe({ behind: 40, steps: 1, idle: true, fetching: false, stuckMs: 0, sampledSinceStep: false })).toMatchObject({ began: true, restartConsumer: false });
    c.advance(5_000);
    // The next look has a fresh sample that still shows events waiting: the restart is not a stall time away.
    expect(watch.observe({ behind: 40, steps: 1, idle: true, fetching: false, stuckMs: 0, sampledSinceStep: true }).restartConsumer).toBe(true);
  });

  it('calls a step under way past the stall time a stall, however many other steps are made meanwhile, and never restarts the consumer for it', () => {
    const c = clock();
    const watch = createProgressWatch({ stallMs: 10_000, now: c.now });
    let steps = 0;
    const look = (stuckMs: number) => watch.observe({ behind: 90, steps: (steps += 1), idle: false, fetching: true, stuckMs });
    expect(look(9_000).stalledMs).toBe(0);
    expect(look(10_000)).toEqual({ stalledMs: 10_000, began: true, ended: false, restartConsumer: false });
    c.advance(5_000);
    expect(look(15_000)).toEqual({ stalledMs: 15_000, began: false, ended: false, restartConsumer: false });
    // The step ended.
    expect(look(0)).toEqual({ stalledMs: 0, began: false, ended: true, restartConsumer: false });
  });
});

describe('the activity of the projector', () => {
  it('lists the steps under way oldest first with how long each has run, and counts those that count once they settle, telling each', async () => {
    const c = clock();
    let told = 0;
    const activity = createActivity({ now: c.now, onStep: () => (told += 1) });
    let release!: () => void;
    const waiting = activity.run('a batch waits for room in the lanes', () => new Promise<void>((r) => (release = r)), false);
    c.advance(300);
    let fail!: (e: Error) => void;
    const round = activity.run('round', () => new Promise<void>((_, reject) => (fail = reject)));
    c.advance(200);
    expect(activity.inFlight()).toEqual([
      { what: 'a batch waits for room in the lanes', ms: 500 },
      { what: 'round', ms: 200 },
    ]);
    fail(new Error('bulk refused'));
    await expect(round).rejects.toThrow('bulk refused');
    release();
    await waiting;
    activity.made();
    expect(activity.inFlight()).toEqual([]);
    // The failed round counts (it ended), the wait does not, the batch taken in does.
    expect(activity.count()).toBe(2);
    expect(told).toBe(2);
  });
});

describe('the partition watch', () => {
  it('names a partition the consumer hands no batch over for, through fetches, while Kafka holds events past it, until it gets one', () => {
    const c = clock();
    const watch = createPartitionWatch({ stallMs: 10_000, now: c.now });
    const look = (a: number, b: number) => [
      { field: 't:0', batches: a, beyond: 5 },
      { field: 't:1', batches: b, beyond: 300 },
    ];
    expect(watch.observe(look(1, 7), 100)).toEqual([]);
    c.advance(5_000);
    expect(watch.observe(look(2, 7), 104)).toEqual([]);
    c.advance(5_000);
    // t:0 gets batches; t:1 has had none for the stall time and 8 fetches while 300 events wait past it.
    expect(watch.observe(look(3, 7), 108)).toEqual([{ field: 't:1', beyond: 300, seconds: 10 }]);
    c.advance(5_000);
    expect(watch.observe(look(4, 7), 112)).toEqual([{ field: 't:1', beyond: 300, seconds: 15 }]);
    c.advance(5_000);
    // A batch of t:1, whatever its offsets (a re-read after a seek too): it is fed again.
    expect(watch.observe(look(5, 8), 116)).toEqual([]);
  });

  it('starts the clock at the first look that finds events waiting, not at the look before', () => {
    const c = clock();
    const watch = createPartitionWatch({ stallMs: 10_000, now: c.now });
    expect(watch.observe([{ field: 't:0', batches: 3, beyond: 0 }], 10)).toEqual([]);
    c.advance(5_000);
    // An event arrived some time in these 5 s: its wait counts from here.
    expect(watch.observe([{ field: 't:0', batches: 3, beyond: 1 }], 20)).toEqual([]);
    c.advance(5_000);
    expect(watch.observe([{ field: 't:0', batches: 3, beyond: 1 }], 30)).toEqual([]);
    c.advance(5_000);
    expect(watch.observe([{ field: 't:0', batches: 3, beyond: 1 }], 40)).toEqual([{ field: 't:0', beyond: 1, seconds: 10 }]);
  });

  it(`never names a partition at rest, nor one waiting while the consumer completes fewer than ${STARVED_FETCHES} fetches (a rejoin, Kafka out, lanes full)`, () => {
    const c = clock();
    const watch = createPartitionWatch({ stallMs: 10_000, now: c.now });
    for (let i = 0; i < 5; i++) {
      // Caught up (a partition at rest, or ending in a transaction marker the consumer passed).
      expect(watch.observe([{ field: 't:0', batches: 4, beyond: 0 }], 50 + i)).toEqual([]);
      c.advance(5_000);
    }
    // Events wait past it for 40 s, but the consumer completes only two fetches meanwhile.
    expect(watch.observe([{ field: 't:0', batches: 4, beyond: 5_000 }], 60)).toEqual([]);
    for (let i = 0; i < 8; i++) {
      c.advance(5_000);
      expect(watch.observe([{ field: 't:0', batches: 4, beyond: 5_000 }], i < 4 ? 61 : 62)).toEqual([]);
    }
    // A third fetch without a batch of it: the consumer passed it over.
    c.advance(5_000);
    expect(watch.observe([{ field: 't:0', batches: 4, beyond: 5_000 }], 63)).toEqual([{ field: 't:0', beyond: 5_000, seconds: 45 }]);
  });

  it('forgets a partition no longer assigned, and watches it afresh when it comes back', () => {
    const c = clock();
    const watch = createPartitionWatch({ stallMs: 10_000, now: c.now });
    watch.observe([{ field: 't:0', batches: 0, beyond: 10 }], 0);
    c.advance(5_000);
    watch.observe([], 5);
    c.advance(5_000);
    expect(watch.observe([{ field: 't:0', batches: 0, beyond: 10 }], 10)).toEqual([]);
    c.advance(9_000);
    expect(watch.observe([{ field: 't:0', batches: 0, beyond: 10 }], 20)).toEqual([]);
    c.advance(1_000);
    expect(watch.observe([{ field: 't:0', batches: 0, beyond: 10 }], 21)).toEqual([{ field: 't:0', beyond: 10, seconds: 10 }]);
  });
});
