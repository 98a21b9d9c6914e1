/**
 * Whether the projector moves (docs/decisions.md 66). A projector that waits for nothing it can
 * name and makes no step while events wait is stuck, and nothing else says so: no error is thrown,
 * the logs fall silent, and the API only sees positions that stop moving (a CI run saw that once,
 * with nothing left to tell where). So the projector counts the steps it makes (batches taken in,
 * rounds ended, positions published), names the steps under way, and every few seconds tells the
 * watch how many events on its partitions are in Kafka and not yet searchable. Events waiting
 * with no step made for `stallMs` is a stall: logged once with the steps under way (the oldest is
 * where it hangs), and reported by the projector's health until a step is made.
 *
 * A step under way for `stallMs` is a stall too, whatever other steps are made meanwhile: a round
 * that hangs holds its partitions' positions while other accounts' rounds go on.
 *
 * Nothing in flight at all (the lanes empty, no round, nothing to publish) while the consumer still
 * fetches is no stall: whatever lag is left, the consumer has nothing to hand over (a partition
 * that ends in a transaction's commit marker keeps a lag of one for good, since a marker is no
 * message). Nothing in flight while the consumer has not fetched for `stallMs` is the stall with a
 * known way out: the consumer's fetch loop stopped (kafkajs has such reports, tulios/kafkajs#659
 * and #1456). Then the consumer is restarted, at most once a `stallMs`: it joins the group again
 * and continues where Redis's applied offsets end. It rests only on a lag sample taken after the
 * last step; without one, the restart waits for the next look.
 */

/** A step under way: what it is and how long it has run. */
export interface StepInFlight {
  what: string;
  ms: number;
}

/** The steps the projector makes: counted when they end (`onStep` is told), named while they run. */
export function createActivity(options: { now?: () => number; onStep?: () => void } = {}) {
  const now = options.now ?? (() => performance.now());
  let nextId = 0;
  let made = 0;
  const open = new Map<number, { what: string; since: number }>();
  return {
    /** Runs `fn` as a step named `what`: listed while it runs, counted as made once it settles (unless `counts` is false). */
    async run<T>(what: string, fn: () => Promise<T>, counts = true): Promise<T> {
      const id = nextId++;
      open.set(id, { what, since: now() });
      try {
        return await fn();
      } finally {
        open.delete(id);
        if (counts) {
          made += 1;
          options.onStep?.();
        }
      }
    },
    /** A step made that was not listed while it ran. */
    made(): void {
      made += 1;
      options.onStep?.();
    },
    /** steps made so far */
    count: () => made,
    /** the steps under way, oldest first */
    inFlight(): StepInFlight[] {
      const at = now();
      return [...open.values()].map((s) => ({ what: s.what, ms: Math.round(at - s.since) }));
    },
  };
}

export type Activity = ReturnType<typeof createActivity>;

export interface ProgressSample {
  /** events on the projector's partitions that are in Kafka and not yet searchable */
  behind: number;
  /** steps made so far (Activity.count) */
  steps: number;
  /** nothing is in flight: no events in the lanes, no round, nothing waiting to be published */
  idle: boolean;
  /** the Kafka consumer completed a fetch (or rejoined) recently enough: it has not stopped */
  fetching: boolean;
  /** how long the oldest step under way has run (a round, a publish; 0 when none) */
  stuckMs: number;
  /**
   * `behind` was sampled after the last step (default true): a sample taken before a catch-up may
   * count events done since, so no restart rests on it, and the watch keeps its restart for a later one.
   */
  sampledSinceStep?: boolean;
}

export interface ProgressVerdict {
  /** how long events have waited with no step made, or the oldest step under way has run, once past `stallMs` (0: no stall) */
  stalledMs: number;
  /** this sample made it a stall */
  began: boolean;
  /** this sample ended a stall (a step was made, or nothing waits any more) */
  ended: boolean;
  /** the consumer is what stopped (idle and not fetching while events wait): restart it */
  restartConsumer: boolean;
}

export function createProgressWatch(options: { stallMs: number; now?: () => number }) {
  const now = options.now ?? (() => performance.now());
  let steps = -1;
  let movedAt = now();
  let stalled = false;
  let restartedAt: number | undefined;
  return {
    observe(sample: ProgressSample): ProgressVerdict {
      const at = now();
      // Idle with a consumer that fetches: nothing to do, however long.
      if (sample.steps !== steps || sample.behind === 0 || (sample.idle && sample.fetching)) {
        steps = sample.steps;
        movedAt = at;
      }
      // No step at all, or one step that never ends while others go on (a round that hangs holds
      // its partitions' positions however many other rounds end).
      const quietMs = at - movedAt >= options.stallMs ? at - movedAt : 0;
      const stalledMs = Math.max(quietMs, sample.stuckMs >= options.stallMs ? sample.stuckMs : 0);
      const isStalled = stalledMs > 0;
      const verdict = { stalledMs, began: isStalled && !stalled, ended: !isStalled && stalled, restartConsumer: false };
      stalled = isStalled;
      if (quietMs > 0 && sample.idle && sample.sampledSinceStep !== false && (restartedAt === undefined || at - restartedAt >= options.stallMs)) {
        restartedAt = at;
        verdict.restartConsumer = true;
      }
      return verdict;
    },
  };
}

/**
 * A partition as one look sees it. `beyond`: events in Kafka past the last batch the consumer
 * handed over for it (or past where it continues after a seek, or past its published position,
 * whichever is furthest); `batches`: the batches handed over for it so far (batches of transaction
 * markers and aborted messages too, stale ones after a seek too): any change is movement, whatever
 * offsets they held.
 */
export interface PartitionLook {
  field: string;
  beyond: number;
  batches: number;
}

/** A partition the consumer hands nothing over for, while Kafka holds events past it. */
export interface StarvedPartition {
  field: string;
  beyond: number;
  seconds: number;
}

/** Fetches the consumer must complete, none handing the partition over, before it counts as starved. */
export const STARVED_FETCHES = 3;

/**
 * The partitions that have had events in Kafka past what the consumer handed over, and no batch
 * handed over, for `stallMs` while the consumer completed fetches (at least STARVED_FETCHES). The
 * projector's own watch does not see such a partition while the others move: kafkajs has a report
 * of a consumer that goes on fetching and never hands one partition over again
 * (tulios/kafkajs#1456), and it fetches the partitions in the same order every time, so a partition
 * late in that order can wait while the earlier ones fill each fetch. Either way the partition's
 * accounts are as old as its last batch, and only the lag metric showed it.
 *
 * A partition's clock starts at the first look that finds events waiting past its last batch; a
 * batch restarts it. `fetches` is the count of fetches the consumer completed: kafkajs fetches again
 * only once every batch of the last fetch was handed over, so completed fetches without a batch of
 * the partition say the consumer passed it over, however long it was held in between (full lanes);
 * a consumer that does not fetch at all (a rejoin, Kafka out) completes none, and is the progress
 * watch's matter.
 */
export function createPartitionWatch(options: { stallMs: number; now?: () => number }) {
  const now = options.now ?? (() => performance.now());
  const seen = new Map<string, { batches: number; waiting: boolean; since: number; fetches: number }>();
  return {
    observe(looks: readonly PartitionLook[], fetches: number): StarvedPartition[] {
      const at = now();
      const starved: StarvedPartition[] = [];
      const fields = new Set<string>();
      for (const look of looks) {
        fields.add(look.field);
        const last = seen.get(look.field);
        const waiting = look.beyond > 0;
        if (!last || last.batches !== look.batches || !waiting || !last.waiting) seen.set(look.field, { batches: look.batches, waiting, since: at, fetches });
        else if (at - last.since >= options.stallMs && fetches - last.fetches >= STARVED_FETCHES)
          starved.push({ field: look.field, beyond: look.beyond, seconds: Math.round((at - last.since) / 1000) });
      }
      for (const field of seen.keys()) if (!fields.has(field)) seen.delete(field);
      return starved;
    },
  };
}
