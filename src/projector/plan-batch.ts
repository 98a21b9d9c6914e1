/**
 * Planning one account's share of a Kafka batch: run the core over its events (skipping those the
 * account has already applied from this partition, and duplicate ids), then derive the documents
 * that changed and the counter deltas. Pure apart from mutating the loaded account's state.
 */
import {
  type AccountState,
  type FactChange,
  type FactEvent,
  type UserDoc,
  affectedUsers,
  applyEvent,
  counterDeltas,
  dedupeHorizon,
  deriveUser,
  isDuplicate,
  pruneSeen,
  remember,
} from '../../projections/index.ts';

export interface PositionedEvent {
  event: FactEvent;
  offset: bigint;
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
}

/**
 * Applies the events to `state` (in place) and returns what to persist. `events` are those not yet
 * applied from this partition, in partition order.
 */
export function planBatch(state: AccountState, events: readonly PositionedEvent[], windowMs: number): BatchPlan {
  const before = new Map<string, UserDoc | null>();
  const changes: FactChange[] = [];
  const seen: BatchPlan['seen'] = [];
  const applied: FactEvent[] = [];
  let duplicates = 0;
  for (const { event } of events) {
    if (isDuplicate(state.seen, event.id, windowMs)) {
      duplicates += 1;
      continue;
    }
    for (const userId of affectedUsers(state.facts, event))
      if (!before.has(userId)) before.set(userId, deriveUser(state.facts, userId));
    for (const c of applyEvent(state.facts, event)) changes.push(c);
    remember(state.seen, event.id, event.timeMs);
    seen.push({ id: event.id, timeMs: event.timeMs });
    applied.push(event);
  }

  const docs = new Map<string, UserDoc | null>();
  const deltas = new Map<string, number>();
  for (const [userId, old] of before) {
    const now = deriveUser(state.facts, userId);
    if (JSON.stringify(old) === JSON.stringify(now)) continue;
    docs.set(userId, now);
    for (const [key, d] of counterDeltas(old, now)) {
      const v = (deltas.get(key) ?? 0) + d;
      if (v === 0) deltas.delete(key);
      else deltas.set(key, v);
    }
  }
  pruneSeen(state.seen, windowMs);
  const newestMs = Number.isFinite(state.seen.newestMs) ? state.seen.newestMs : 0;
  return {
    lastOffset: events.length > 0 ? events[events.length - 1]!.offset : -1n,
    applied,
    duplicates,
    changes,
    seen,
    newestMs,
    pruneBeforeMs: Number.isFinite(state.seen.newestMs) ? dedupeHorizon(state.seen, windowMs) : -1e301,
    counterDeltas: deltas,
    docs,
  };
}
