/**
 * Per-account lanes between Kafka and the projection (docs/decisions.md 34). kafkajs hands a
 * fetch's batches to eachBatch and fetches again only once every one of them has returned; a
 * batch that waited for its projection therefore held every partition while one account's role
 * change re-derived thousands of users. Now eachBatch only adds its events here, each to its
 * account's lane, and returns; the projector takes rounds from the lanes, in which every account
 * with events gets one bounded turn, so a small account's change waits for one round at most,
 * whatever its neighbours do.
 *
 * A partition's events finish out of order (one account's events behind another's), so what the
 * projector may call applied, publish and commit to Kafka for a partition is its finished prefix:
 * every offset before its first unfinished event. Accounts record their own applied offsets, so
 * events past the prefix that are read again (after a restart) are skipped, not applied twice.
 *
 * A round may let its accounts go once it has committed them to Redis (decision 37; the projector
 * lets light rounds do so while it keeps up): `commit` marks
 * the events it consumed as taken (a later round of the same account skips them while this one
 * still writes) and gives back what it took but did not consume; `settle` then removes the finished
 * events, and `giveBack` returns the taken ones of a round that ends without settling.
 *
 * Pure bookkeeping, no I/O: the projector (src/projector/projector.ts) does the rest.
 */
import { type BatchBounds, splitField } from '../integrity/continuity.ts';
import type { PositionedEvent } from './plan-batch.ts';
import type { BatchPart } from './project-batch.ts';

interface Entry {
  event: PositionedEvent;
  done: boolean;
  /** consumed by a committed round that has not settled yet: later rounds leave it */
  taken: boolean;
  /** when it was added (performance.now()) */
  addedMs: number;
}

interface FieldState {
  /** the last offset that counts as applied (raised in Redis, or where consumption was sought to) */
  prefix: bigint;
  /** the last offset received (poison messages included) */
  received: bigint;
  /** the first offset received but not raised yet (the next raise starts there) */
  from: bigint | undefined;
  highWatermark: bigint;
  /** the field's unfinished events in offset order, from `head` */
  pending: Entry[];
  head: number;
  /** bumped when the field is reset: rounds taken before settle nothing of it */
  generation: number;
}

/** What one round projects: one part per partition, each account's events of it in offset order. */
export interface Round {
  parts: BatchPart[];
  /** per partition in the round, where its next raise starts (for the continuity check) */
  bounds: BatchBounds[];
  /** when its oldest event was added to its lane (undefined for a round without events) */
  oldestAddedMs: number | undefined;
  /** the entries handed out, per partition and account (the first events of the account's lane not taken by another round) */
  taken: Map<string, Map<string, Entry[]>>;
  generations: Map<string, number>;
  /** `commit` narrowed it to what it consumed */
  committed: boolean;
  /** the kind of accounts it serves (see `take`); undefined for a round that only raises */
  kind: 'heavy' | 'backlog' | 'short' | undefined;
}

/** A raise of a partition's applied offset: every offset from `from` to `to` is finished. */
export interface Raise {
  from: bigint;
  to: bigint;
}

/** Events of a round's parts consumed, per partition and account: a count from the head of what was handed out. */
export type Consumed = ReadonlyMap<string, ReadonlyMap<string, number>>;

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the lanes and the fields' state, and are each short
export function createLanes(options: { maxQueued: number; roundEvents?: number; backlogEvents?: number }) {
  const fields = new Map<string, FieldState>();
  /** account -> partition -> its unfinished events, in offset order */
  const lanes = new Map<string, Map<string, Entry[]>>();
  let queued = 0;
  /** account -> partition -> how many of its lane's events are taken (by committed rounds still writing) */
  const takenCounts = new Map<string, Map<string, number>>();
  /** generations are unique across fields and resets, so a round never mistakes a new state for its own */
  let generationSeq = 0;
  let waiters: (() => void)[] = [];
  /** set by release(): the projector stops, and room() no longer waits */
  let stopping = false;
  let wake: (() => void) | undefined;
  let woken: Promise<void> | undefined;

  function fieldState(field: string, firstOffset: bigint): FieldState {
    let state = fields.get(field);
    if (!state) {
      state = { prefix: firstOffset - 1n, received: firstOffset - 1n, from: undefined, highWatermark: 0n, pending: [], head: 0, generation: ++generationSeq };
      fields.set(field, state);
    }
    return state;
  }

  function takenIn(accountId: string, field: string): number {
    return takenCounts.get(accountId)?.get(field) ?? 0;
  }

  /** The account's events in the given lanes that no round has taken. */
  function untaken(accountId: string, byField: ReadonlyMap<string, readonly unknown[]>): number {
    let n = 0;
    for (const [field, lane] of byField) n += lane.length - takenIn(accountId, field);
    return n;
  }

  function countTaken(accountId: string, field: string, delta: number): void {
    const byField = takenCounts.get(accountId) ?? new Map<string, number>();
    const n = (byField.get(field) ?? 0) + delta;
    if (n > 0) takenCounts.set(accountId, byField.set(field, n));
    else {
      byField.delete(field);
      if (byField.size === 0) takenCounts.delete(accountId);
    }
  }

  /** The lane's first `limit` events not taken, in offset order. */
  function freeEntries(lane: readonly Entry[], taken: number, limit: number): Entry[] {
    if (taken === 0) return lane.slice(0, limit);
    const out: Entry[] = [];
    for (let i = 0; i < lane.length && out.length < limit; i++) if (!lane[i]!.taken) out.push(lane[i]!);
    return out;
  }

  /** A round's parts: its entries' events, one part per partition. */
  function partsOf(taken: ReadonlyMap<string, ReadonlyMap<string, Entry[]>>): BatchPart[] {
    return [...taken].map(([field, byAccount]) => ({
      source: splitField(field),
      byAccount: new Map([...byAccount].map(([accountId, entries]) => [accountId, entries.map((e) => e.event)])),
    }));
  }

  function released(count: number): void {
    queued -= count;
    if (queued > options.maxQueued) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  }

  function dropField(field: string): void {
    let dropped = 0;
    for (const [accountId, byField] of lanes) {
      dropped += byField.get(field)?.length ?? 0;
      byField.delete(field);
      countTaken(accountId, field, -takenIn(accountId, field));
      if (byField.size === 0) lanes.delete(accountId);
    }
    released(dropped);
  }

  /** The offset before the field's first unfinished event, counting `finishing` as finished. */
  function prefixOf(state: FieldState, finishing: ReadonlySet<Entry>): bigint {
    for (let i = state.head; i < state.pending.length; i++) {
      const entry = state.pending[i]!;
      if (!entry.done && !finishing.has(entry)) return entry.event.offset - 1n;
    }
    return state.received;
  }

  function finishingOf(round: Round, consumed: Consumed): Map<string, Set<Entry>> {
    const out = new Map<string, Set<Entry>>();
    for (const [field, byAccount] of round.taken) {
      if (fields.get(field)?.generation !== round.generations.get(field)) continue;
      const set = new Set<Entry>();
      for (const [accountId, entries] of byAccount) for (const entry of entries.slice(0, consumed.get(field)?.get(accountId) ?? 0)) set.add(entry);
      out.set(field, set);
    }
    return out;
  }

  return {
    /**
     * A batch's decoded events (any accounts, in offset order) and its last offset; `firstOffset`
     * is the batch's first (poison messages count: they are settled already).
     */
    add(field: string, batch: { firstOffset: bigint; last: bigint; highWatermark: bigint; events: readonly { accountId: string; event: PositionedEvent }[] }): void {
      const state = fieldState(field, batch.firstOffset);
      const before = state.received;
      if (batch.last <= before) return;
      // A batch that starts past what was received skipped offsets: the raise then starts there, and
      // the continuity check finds the gap (as it would find one after a seek it did not ask for).
      if (batch.firstOffset > before + 1n) state.from = batch.firstOffset;
      else state.from ??= before + 1n;
      state.received = batch.last;
      state.highWatermark = batch.highWatermark;
      const addedMs = performance.now();
      for (const { accountId, event } of batch.events) {
        if (event.offset <= before) continue;
        const entry: Entry = { event, done: false, taken: false, addedMs };
        state.pending.push(entry);
        const byField = lanes.get(accountId) ?? new Map<string, Entry[]>();
        lanes.set(accountId, byField);
        const lane = byField.get(field) ?? [];
        byField.set(field, lane);
        lane.push(entry);
        queued += 1;
      }
      wake?.();
    },

    /**
     * The next round: the lanes' events, `roundEvents` at most, the accounts served in turn (those
     * served go to the back; `busy` ones, in a round still in flight, are left for a later round;
     * events taken by a committed round still writing are skipped).
     * Accounts go in rounds of their kind: a `heavy` one alone; those with more than `backlogEvents`
     * waiting (catching up) together; those with a few events together, so that a small account's
     * change is planned and written in a small round, never behind a neighbour's backlog.
     * Undefined when there is nothing to do, or when the round would only raise finished prefixes
     * (no events) and `onlyRaise` is false: while such a round is in flight, the lanes would offer
     * the same raise again until it settles (decision 57).
     */
    take(busy: ReadonlySet<string> = new Set(), heavy: (accountId: string) => boolean = () => false, onlyRaise = true): Round | undefined {
      const taken = new Map<string, Map<string, Entry[]>>();
      let budget = options.roundEvents ?? Infinity;
      const served: string[] = [];
      const backlog = options.backlogEvents ?? Infinity;
      let kind: 'heavy' | 'backlog' | 'short' | undefined;
      let oldestAddedMs: number | undefined;
      for (const [accountId, byField] of lanes) {
        if (budget <= 0 || kind === 'heavy') break;
        if (busy.has(accountId)) continue;
        // What an earlier round of the account consumed and still writes is not this round's.
        const waiting = untaken(accountId, byField);
        if (waiting === 0) continue;
        const accountKind = heavy(accountId) ? 'heavy' : waiting > backlog ? 'backlog' : 'short';
        if (kind !== undefined && accountKind !== kind) continue;
        kind = accountKind;
        served.push(accountId);
        for (const [field, lane] of byField) {
          const entries = freeEntries(lane, takenIn(accountId, field), Math.max(1, budget));
          if (entries.length === 0) continue;
          budget -= entries.length;
          const byAccount = taken.get(field) ?? new Map<string, Entry[]>();
          taken.set(field, byAccount);
          byAccount.set(accountId, entries);
          // A round takes at least the first free event of each lane it serves.
          oldestAddedMs = Math.min(oldestAddedMs ?? Infinity, entries[0]!.addedMs);
        }
      }
      for (const accountId of served) {
        const byField = lanes.get(accountId)!;
        lanes.delete(accountId);
        lanes.set(accountId, byField);
      }
      const bounds: BatchBounds[] = [];
      const generations = new Map<string, number>();
      for (const [field, state] of fields)
        // A partition without events here joins when it has something to raise now (a round that
        // could raise nothing would only spin while its events are in another round).
        if (taken.has(field) || prefixOf(state, new Set()) > state.prefix) {
          bounds.push({ field, firstOffset: state.from ?? state.prefix + 1n, highWatermark: state.highWatermark });
          generations.set(field, state.generation);
        }
      if (bounds.length === 0 || (taken.size === 0 && !onlyRaise)) return undefined;
      return {
        parts: partsOf(taken),
        bounds,
        oldestAddedMs,
        taken,
        generations,
        committed: false,
        kind,
      };
    },

    /** The raises the round would make once `consumed` is finished (nothing changes). */
    raises(round: Round, consumed: Consumed): Map<string, Raise> {
      const finishing = finishingOf(round, consumed);
      const out = new Map<string, Raise>();
      for (const [field, generation] of round.generations) {
        const state = fields.get(field);
        if (!state || state.generation !== generation) continue;
        const to = prefixOf(state, finishing.get(field) ?? new Set());
        if (to > state.prefix) out.set(field, { from: state.from ?? state.prefix + 1n, to });
      }
      return out;
    },

    /**
     * The round is done (written): its consumed events leave their lanes, and the prefixes move by
     * `raises`, those `raises` gave when the round was committed (what arrived since waits for the next).
     */
    settle(round: Round, consumed: Consumed, raises: ReadonlyMap<string, Raise>): void {
      let finished = 0;
      for (const [field, set] of finishingOf(round, consumed)) {
        for (const entry of set) entry.done = true;
        finished += set.size;
        for (const [accountId, entries] of round.taken.get(field)!) {
          const n = consumed.get(field)?.get(accountId) ?? 0;
          const byField = lanes.get(accountId);
          const lane = byField?.get(field);
          if (!lane || n === 0) continue;
          // Not necessarily the lane's head: an earlier round given back may be before them.
          const ended = entries.slice(0, n);
          const gone = new Set(ended);
          const left = lane.filter((e) => !gone.has(e));
          countTaken(accountId, field, -ended.filter((e) => e.taken).length);
          if (left.length > 0) byField!.set(field, left);
          else byField!.delete(field);
          if (byField!.size === 0) lanes.delete(accountId);
        }
        const state = fields.get(field)!;
        while (state.head < state.pending.length && state.pending[state.head]!.done) state.head += 1;
        if (state.head > 1024 && state.head * 2 > state.pending.length) {
          state.pending = state.pending.slice(state.head);
          state.head = 0;
        }
      }
      for (const [field, raise] of raises) {
        const state = fields.get(field);
        if (!state || state.generation !== round.generations.get(field) || raise.to <= state.prefix) continue;
        state.prefix = raise.to;
        state.from = raise.to < state.received ? raise.to + 1n : undefined;
      }
      released(finished);
    },

    /**
     * The round committed `consumed` to Redis: those events are taken (later rounds of their accounts
     * skip them) and the round is narrowed to them, so that a retry only writes what was committed;
     * what it took but did not consume goes back to its lanes. Once per round (a retry commits again).
     */
    commit(round: Round, consumed: Consumed): void {
      if (round.committed) return;
      round.committed = true;
      for (const [field, byAccount] of round.taken) {
        const current = fields.get(field)?.generation === round.generations.get(field);
        for (const [accountId, entries] of byAccount) {
          const n = current ? (consumed.get(field)?.get(accountId) ?? 0) : 0;
          for (const entry of entries.slice(0, n)) entry.taken = true;
          countTaken(accountId, field, n);
          if (n > 0) byAccount.set(accountId, entries.slice(0, n));
          else byAccount.delete(accountId);
        }
      }
      round.parts = partsOf(round.taken);
      wake?.();
    },

    /** The round ends without settling (it failed for good): what it took goes back to its lanes. */
    giveBack(round: Round): void {
      let given = 0;
      for (const [field, byAccount] of round.taken) {
        if (fields.get(field)?.generation !== round.generations.get(field)) continue;
        for (const [accountId, entries] of byAccount)
          for (const entry of entries)
            if (entry.taken && !entry.done) {
              entry.taken = false;
              countTaken(accountId, field, -1);
              given += 1;
            }
      }
      if (given > 0) wake?.();
    },

    /** Consumption of `field` continues at `next` (a seek): what was queued of it goes. */
    reset(field: string, next: bigint): void {
      dropField(field);
      const state = fieldState(field, next);
      Object.assign(state, { prefix: next - 1n, received: next - 1n, from: undefined, pending: [], head: 0, generation: ++generationSeq });
    },

    /** Forgets everything (a new assignment seeks every partition again). */
    clear(): void {
      for (const field of [...fields.keys()]) dropField(field);
      fields.clear();
    },

    /** The partitions known, with their applied prefix. */
    prefixes(): Map<string, bigint> {
      return new Map([...fields].map(([field, s]) => [field, s.prefix]));
    },

    /** Events waiting or in a round. */
    queued: () => queued,

    /** The account's events in its lanes that no round has taken. */
    waiting(accountId: string): number {
      return untaken(accountId, lanes.get(accountId) ?? new Map());
    },

    /** The accounts with events waiting or in a round, in the order `take` serves them (the one just served last). */
    serveOrder: () => lanes.keys(),

    /** Settles once fewer than `maxQueued` events wait (eachBatch's backpressure: the fetch waits). */
    room(): Promise<void> {
      if (queued <= options.maxQueued || stopping) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },

    /** Settles when events are added next. */
    next(): Promise<void> {
      woken ??= new Promise((resolve) => {
        wake = () => {
          wake = undefined;
          woken = undefined;
          resolve();
        };
      });
      return woken;
    },

    /**
     * Lets whoever waits for room or events go, now and from now on (stopping): no round takes
     * events any more, and a fetch still delivered until the consumer stops must not wait for room.
     */
    release(): void {
      stopping = true;
      for (const resolve of waiters) resolve();
      waiters = [];
      wake?.();
    },
  };
}

export type Lanes = ReturnType<typeof createLanes>;
