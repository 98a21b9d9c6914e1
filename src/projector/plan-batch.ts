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

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Applies the events to `state` and `open` (in place) and returns what to persist. `events` are
 * those not yet applied from this partition, in partition order.
 */
export function planBatch(state: AccountState, open: Map<string, EventRef>, raw: RawState, source: BatchSource, events: readonly PositionedEvent[], windowMs: number): BatchPlan {
  const start = new Map<string, UserDoc | null>();
  const current = new Map<string, UserDoc | null>();
  const changes: FactChange[] = [];
  const seen: BatchPlan['seen'] = [];
  const applied: FactEvent[] = [];
  const history = new Map<string, OutboxRecord>();
  const openChanges = new Map<string, EventRef | null>();
  const rawChanges = new Map<string, RawValue | null>();
  let duplicates = 0;
  for (const { event, offset } of events) {
    const logMs = logTime(event);
    if (isDuplicate(state.seen, event.id, logMs, windowMs)) {
      duplicates += 1;
      continue;
    }
    const affected = affectedUsers(state.facts, event);
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
      if (same(before, after)) continue;
      recordChanges(source.accountId, userId, diffDocs(before, after), at, open, openChanges, history);
      current.set(userId, after);
    }
  }

  const docs = new Map<string, UserDoc | null>();
  const deltas = new Map<string, number>();
  for (const [userId, old] of start) {
    const now = current.get(userId) ?? null;
    if (same(old, now)) continue;
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
    lastOffset: events.length > 0 ? events[events.length - 1]!.offset : -1n,
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
