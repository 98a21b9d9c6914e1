/**
 * Planning one account's share of a Kafka batch: run the core over its events (skipping duplicate
 * ids), follow each affected user's document event by event (for the history), and collect what to
 * persist: fact changes, remembered ids, counter deltas, changed documents and history records.
 * Pure apart from mutating the loaded account's state and open intervals.
 */
import {
  type AccountState,
  type FactChange,
  type FactEvent,
  type UserDoc,
  affectedUsers,
  applyEvent,
  applyRaw,
  type RawFacts,
  counterDeltas,
  dedupeHorizon,
  deriveUser,
  diffDocs,
  isDuplicate,
  logTime,
  pruneSeen,
  remember,
  sameDoc,
} from '../../projections/index.ts';
import { type EventRef, type OutboxRecord, factRecord, factRecordId, recordChanges } from './history-records.ts';

export interface PositionedEvent {
  event: FactEvent & { time?: string };
  offset: bigint;
}

export interface BatchSource {
  accountId: string;
  topic: string;
  partition: number;
  /** the account version this batch will commit as (for the order of history records) */
  version: number;
}

export interface BatchPlan {
  /** how many of the given events this plan covers (all, unless the work budget cut it short) */
  consumed: number;
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
  history: Map<string, OutboxRecord>;
  /** open-interval changes: field -> first event of the open interval, or null when closed */
  openChanges: Map<string, EventRef | null>;
  /** raw fact changes: key -> its value and the event that set it, or null when gone */
  rawChanges: Map<string, RawValue | null>;
}

/** A raw fact's current value and the event that opened its interval. */
export interface RawValue {
  v: string;
  f: EventRef;
}

/** An account's raw facts with the opening event of each value. */
export interface RawState {
  values: RawFacts;
  opened: Map<string, EventRef>;
}

/**
 * Applies the events to `state` and `open` (in place) and returns what to persist. `events` are
 * those not yet applied from this partition, in partition order. `maxWork` bounds the plan: it
 * stops after the event that brings the number of user documents derived to it (at least one
 * event is always planned), so that one commit never holds the event loop for long.
 */
export function planBatch(
  state: AccountState,
  open: Map<string, EventRef>,
  raw: RawState,
  source: BatchSource,
  events: readonly PositionedEvent[],
  windowMs: number,
  maxWork = Number.POSITIVE_INFINITY,
): BatchPlan {
  const start = new Map<string, UserDoc | null>();
  const current = new Map<string, UserDoc | null>();
  const changes: FactChange[] = [];
  const seen: BatchPlan['seen'] = [];
  const applied: FactEvent[] = [];
  const history = new Map<string, OutboxRecord>();
  const openChanges = new Map<string, EventRef | null>();
  /** users whose document changed at some event of the batch (it may have changed back since) */
  const touched = new Set<string>();
  const rawChanges = new Map<string, RawValue | null>();
  let duplicates = 0;
  let work = 0;
  let consumed = 0;
  for (const { event, offset } of events) {
    if (consumed > 0 && work >= maxWork) break;
    consumed += 1;
    const logMs = logTime(event);
    if (isDuplicate(state.seen, event.id, logMs, windowMs)) {
      duplicates += 1;
      continue;
    }
    const affected = affectedUsers(state.facts, event);
    work += affected.size + 1;
    for (const userId of affected)
      if (!current.has(userId)) {
        const doc = deriveUser(state.facts, userId);
        start.set(userId, doc);
        current.set(userId, doc);
      }
    for (const c of applyEvent(state.facts, event)) changes.push(c);
    remember(state.seen, event.id, logMs);
    seen.push({ id: event.id, timeMs: logMs });
    const at: EventRef = {
      event_id: event.id,
      type: event.type,
      topic: source.topic,
      partition: source.partition,
      offset: offset.toString(),
      time: event.time ?? new Date(event.timeMs).toISOString(),
      time_ms: event.timeMs,
      seq: source.version * 1_000_000 + applied.length,
    };
    applied.push(event);
    for (const change of applyRaw(raw.values, event)) {
      const from = raw.opened.get(change.key);
      if (from && change.previous !== undefined) history.set(factRecordId(source.accountId, change.key, from), factRecord(source.accountId, change.key, change.previous, from, at));
      if (change.value === null) {
        raw.opened.delete(change.key);
        rawChanges.set(change.key, null);
      } else {
        raw.opened.set(change.key, at);
        rawChanges.set(change.key, { v: change.value, f: at });
        history.set(factRecordId(source.accountId, change.key, at), factRecord(source.accountId, change.key, change.value, at, null));
      }
    }
    for (const userId of affected) {
      const before = current.get(userId) ?? null;
      const after = deriveUser(state.facts, userId);
      const diff = diffDocs(before, after);
      if (diff.length === 0) continue;
      recordChanges(source.accountId, userId, diff, at, open, openChanges, history);
      current.set(userId, after);
      touched.add(userId);
    }
  }

  const docs = new Map<string, UserDoc | null>();
  const deltas = new Map<string, number>();
  for (const userId of touched) {
    const old = start.get(userId) ?? null;
    const now = current.get(userId) ?? null;
    if (sameDoc(old, now)) continue;
    docs.set(userId, now);
    for (const [key, d] of counterDeltas(old, now)) {
      const v = (deltas.get(key) ?? 0) + d;
      if (v === 0) deltas.delete(key);
      else deltas.set(key, v);
    }
  }
  pruneSeen(state.seen, windowMs);
  const finite = Number.isFinite(state.seen.newestMs);
  return {
    consumed,
    lastOffset: consumed > 0 ? events[consumed - 1]!.offset : -1n,
    applied,
    duplicates,
    changes,
    seen,
    newestMs: finite ? state.seen.newestMs : 0,
    pruneBeforeMs: finite ? dedupeHorizon(state.seen, windowMs) : -1e301,
    counterDeltas: deltas,
    docs,
    history,
    openChanges,
    rawChanges,
  };
}
