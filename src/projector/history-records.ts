/**
 * History records: the intervals of projections/history.ts as OpenSearch documents. An interval is
 * written when it opens (no end) and written again, same id, when it closes. Ids are derived from
 * the interval's first event, so a replay writes the same documents.
 */
import type { DocChange, IntervalValue } from '../../projections/index.ts';

export interface EventRef {
  event_id: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
  time: string;
  time_ms: number;
  /** order of application within the account: commit version * 1e6 + position in the batch */
  seq: number;
}

export interface HistoryRecord {
  account_id: string;
  user_id: string;
  key: string;
  kind: 'entry' | 'profile';
  access_type: string | null;
  target_id: string | null;
  from_ms: number;
  /** end of the interval; Number.MAX_SAFE_INTEGER while open */
  to_ms: number;
  from: EventRef;
  to: EventRef | null;
  value: IntervalValue;
}

export const OPEN_END = Number.MAX_SAFE_INTEGER;

export function historyId(accountId: string, userId: string, key: string, from: EventRef): string {
  return `${accountId}\u001f${userId}\u001f${key}\u001f${from.event_id}`;
}

export function openField(userId: string, key: string): string {
  return `${userId}\u001f${key}`;
}

export function historyRecord(accountId: string, userId: string, key: string, value: IntervalValue, from: EventRef, to: EventRef | null): HistoryRecord {
  return {
    account_id: accountId,
    user_id: userId,
    key,
    kind: value.kind,
    access_type: value.kind === 'entry' ? value.entry.access_type : null,
    target_id: value.kind === 'entry' ? value.entry.target.id : null,
    from_ms: from.time_ms,
    to_ms: to ? to.time_ms : OPEN_END,
    from,
    to,
    value,
  };
}

/**
 * Applies one document change to the open intervals (in place) and returns the records to write,
 * keyed by id (a later record for the same id replaces the earlier one).
 */
export function recordChanges(
  accountId: string,
  userId: string,
  changes: readonly DocChange[],
  at: EventRef,
  open: Map<string, EventRef>,
  openChanges: Map<string, EventRef | null>,
  out: Map<string, HistoryRecord | FactIntervalRecord>,
): void {
  for (const change of changes) {
    const field = openField(userId, change.key);
    const from = open.get(field);
    if (change.closed && from) out.set(historyId(accountId, userId, change.key, from), historyRecord(accountId, userId, change.key, change.closed, from, at));
    if (change.opened) {
      open.set(field, at);
      openChanges.set(field, at);
      out.set(historyId(accountId, userId, change.key, at), historyRecord(accountId, userId, change.key, change.opened, at, null));
    } else {
      open.delete(field);
      openChanges.set(field, null);
    }
  }
}

/** A raw fact's value over an interval of event time (projections/raw-facts.ts): what `as_of` reads. */
export interface FactIntervalRecord {
  account_id: string;
  fact_key: string;
  value: string;
  from_ms: number;
  /** end of the interval; Number.MAX_SAFE_INTEGER while open */
  to_ms: number;
  from: EventRef;
  to: EventRef | null;
}

/** What the outbox holds: history intervals of documents, and fact intervals. */
export type OutboxRecord = HistoryRecord | FactIntervalRecord;

export const isFactRecord = (r: OutboxRecord): r is FactIntervalRecord => 'fact_key' in r;

/** Fact record ids start with "f" + U+001F, so they never meet a history record id (which starts with the account). */
export function factRecordId(accountId: string, key: string, from: EventRef): string {
  return `f\u001f${accountId}\u001f${key}\u001f${from.event_id}`;
}

export function factRecord(accountId: string, key: string, value: string, from: EventRef, to: EventRef | null): FactIntervalRecord {
  return { account_id: accountId, fact_key: key, value, from_ms: from.time_ms, to_ms: to ? to.time_ms : OPEN_END, from, to };
}
