/**
 * Planning one account's share of a Kafka batch: run the core over its events (skipping duplicate
 * ids) and collect what to persist: fact changes, remembered ids, counter deltas, the documents that
 * changed between the start and the end of the plan (interim states are never derived or written),
 * and the raw fact intervals that closed (the history and `as_of` read them, decisions 30 and 47; an
 * open interval is its raw fact, kept in Redis).
 * Pure apart from mutating the loaded account's state and raw facts.
 */
import {
  type AccountState,
  type FactChange,
  type FactEvent,
  type UserDoc,
  affectedUsers,
  applyEvent,
  applyRaw,
  counterDeltas,
  dedupeHorizon,
  deriveUser,
  isDuplicate,
  logTime,
  pruneSeen,
  remember,
  sameDoc,
} from '../../projections/index.ts';
import { type EventRef, type FactIntervalRecord, type RawState, type RawValue, SEQ_PER_VERSION, factRecord, factRecordId, sharedName } from '../records/fact-intervals.ts';

export interface PositionedEvent {
  event: FactEvent & { time?: string };
  offset: bigint;
}

export interface BatchSource {
  accountId: string;
  topic: string;
  partition: number;
  /** the account version this batch will commit as (for the order of application, `seq`) */
  version: number;
}

export interface BatchPlan {
  /** how many of the given events this plan covers (all, unless the work budget cut it short) */
  consumed: number;
  /** the work it took: distinct users reached (each derived twice: before and after) plus events applied */
  work: number;
  lastOffset: bigint;
  applied: FactEvent[];
  duplicates: number;
  changes: FactChange[];
  seen: { id: string; timeMs: number }[];
  newestMs: number;
  pruneBeforeMs: number;
  counterDeltas: Map<string, number>;
  /** users whose document changed: the new document, or null when the user is gone */
  docs: Map<string, UserDoc | null>;
  /** fact intervals closed, by id (an interval is written once, when it closes: decision 47) */
  intervals: Map<string, FactIntervalRecord>;
  /** raw fact changes: key -> its value and the event that set it, or null when gone */
  rawChanges: Map<string, RawValue | null>;
}

function eventRef(source: BatchSource, event: PositionedEvent['event'], offset: bigint, seq: number): EventRef {
  return {
    event_id: event.id,
    type: sharedName(event.type),
    topic: sharedName(source.topic),
    partition: source.partition,
    offset: offset.toString(),
    time: event.time ?? new Date(event.timeMs).toISOString(),
    time_ms: event.timeMs,
    seq,
  };
}

/**
 * Applies the event to the raw facts: each value it ends closes its interval (a record, written
 * once), each value it sets opens one, which lives in the raw facts (Redis) until it closes.
 */
function applyRawEvent(
  raw: RawState,
  accountId: string,
  event: FactEvent,
  at: EventRef,
  intervals: Map<string, FactIntervalRecord>,
  rawChanges: Map<string, RawValue | null>,
): void {
  for (const change of applyRaw(raw.values, event)) {
    const from = raw.opened.get(change.key);
    if (from && change.previous !== undefined) intervals.set(factRecordId(accountId, change.key, from), factRecord(accountId, change.key, change.previous, from, at));
    if (change.value === null) {
      raw.opened.delete(change.key);
      rawChanges.set(change.key, null);
    } else {
      raw.opened.set(change.key, at);
      rawChanges.set(change.key, { v: change.value, f: at });
    }
  }
}

/**
 * Each reached user's document derived once more, at the end: what changed in between and changed
 * back (a role granted and withdrawn in one fetch) is neither derived nor written.
 */
/** Users derived between two pauses of a paced plan (a few ms here). */
export const DERIVED_PER_PAUSE = 50;

/** A plan's steps: it yields every DERIVED_PER_PAUSE derivations, where a paced plan lets the event loop turn. */
type PlanSteps<T> = Generator<void, T, void>;

function* derive(state: AccountState, userId: string, count: { n: number }): PlanSteps<UserDoc | null> {
  count.n += 1;
  if (count.n % DERIVED_PER_PAUSE === 0) yield;
  return deriveUser(state.facts, userId);
}

function* changedDocs(
  state: AccountState,
  start: ReadonlyMap<string, UserDoc | null>,
  count: { n: number },
): PlanSteps<{ docs: Map<string, UserDoc | null>; deltas: Map<string, number> }> {
  const docs = new Map<string, UserDoc | null>();
  const deltas = new Map<string, number>();
  for (const [userId, old] of start) {
    const now = yield* derive(state, userId, count);
    // The stored document holds no names (decision 64): a rename alone writes nothing.
    if (sameDoc(old, now, false)) continue;
    docs.set(userId, now);
    for (const [key, d] of counterDeltas(old, now)) {
      const v = (deltas.get(key) ?? 0) + d;
      if (v === 0) deltas.delete(key);
      else deltas.set(key, v);
    }
  }
  return { docs, deltas };
}

/**
 * Applies the events to `state` and `raw` (in place) and returns what to persist. `events` are
 * those not yet applied from this partition, in partition order. `maxWork` bounds the plan: the
 * work is the distinct users reached (each user's document is derived once before the plan's first
 * event reaches it and once at the end, however many events reach it) plus one per event. An event
 * that would take the work past `maxWork` by reaching users not reached yet ends the plan before
 * it (at least one event is always planned); an event that reaches only users already reached
 * costs one. So a role changed again and again is planned in one commit, derived once, and one
 * commit never holds the event loop for long.
 */
export function planBatch(
  state: AccountState,
  raw: RawState,
  source: BatchSource,
  events: readonly PositionedEvent[],
  windowMs: number,
  maxWork = Number.POSITIVE_INFINITY,
): BatchPlan {
  const steps = planSteps(state, raw, source, events, windowMs, maxWork);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * planBatch that lets `pace` run every DERIVED_PER_PAUSE derivations: a role change reaching
 * thousands of users lets other accounts' rounds run meanwhile (the account's state is only
 * touched by this plan, under the account's lock).
 */
export async function planBatchPaced(
  state: AccountState,
  raw: RawState,
  source: BatchSource,
  events: readonly PositionedEvent[],
  windowMs: number,
  maxWork: number,
  pace: () => Promise<void>,
): Promise<BatchPlan> {
  const steps = planSteps(state, raw, source, events, windowMs, maxWork);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pace();
  }
}

function* planSteps(state: AccountState, raw: RawState, source: BatchSource, events: readonly PositionedEvent[], windowMs: number, maxWork: number): PlanSteps<BatchPlan> {
  const count = { n: 0 };
  /** every user an event reached, with their document before the plan's first event reached them */
  const start = new Map<string, UserDoc | null>();
  const changes: FactChange[] = [];
  const seen: BatchPlan['seen'] = [];
  const applied: FactEvent[] = [];
  const intervals = new Map<string, FactIntervalRecord>();
  const rawChanges = new Map<string, RawValue | null>();
  let duplicates = 0;
  let work = 0;
  let consumed = 0;
  for (const { event, offset } of events) {
    const logMs = logTime(event);
    if (isDuplicate(state.seen, event.id, logMs, windowMs)) {
      consumed += 1;
      duplicates += 1;
      continue;
    }
    const affected = affectedUsers(state.facts, event, { names: false });
    let reached = 0;
    for (const userId of affected) if (!start.has(userId)) reached += 1;
    if (consumed > 0 && reached > 0 && work + reached + 1 > maxWork) break;
    consumed += 1;
    work += reached + 1;
    for (const userId of affected) if (!start.has(userId)) start.set(userId, yield* derive(state, userId, count));
    for (const c of applyEvent(state.facts, event)) changes.push(c);
    remember(state.seen, event.id, logMs);
    seen.push({ id: event.id, timeMs: logMs });
    const at = eventRef(source, event, offset, source.version * SEQ_PER_VERSION + applied.length);
    applied.push(event);
    applyRawEvent(raw, source.accountId, event, at, intervals, rawChanges);
  }
  const { docs, deltas } = yield* changedDocs(state, start, count);
  pruneSeen(state.seen, windowMs);
  const finite = Number.isFinite(state.seen.newestMs);
  return {
    consumed,
    work,
    lastOffset: consumed > 0 ? events[consumed - 1]!.offset : -1n,
    applied,
    duplicates,
    changes,
    seen,
    newestMs: finite ? state.seen.newestMs : 0,
    pruneBeforeMs: finite ? dedupeHorizon(state.seen, windowMs) : -1e301,
    counterDeltas: deltas,
    docs,
    intervals,
    rawChanges,
  };
}
