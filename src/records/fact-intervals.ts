/**
 * Fact intervals: each raw fact's value over an interval of event time (projections/raw-facts.ts),
 * as OpenSearch documents. What `as_of` and a user's history read (decisions 19 and 30). An interval
 * is written when it opens (no end) and written again, same id, when it closes. Ids are derived from
 * the interval's first event, so a replay writes the same documents.
 */
import { type RawFacts, rawSubject } from '../../projections/index.ts';

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

export const OPEN_END = Number.MAX_SAFE_INTEGER;

/** A raw fact's value over an interval of event time (projections/raw-facts.ts): what `as_of` reads. */
export interface FactIntervalRecord {
  account_id: string;
  fact_key: string;
  /** the entity the key is found through when a user's history is derived (projections/raw-facts.ts `rawSubject`) */
  subject: string;
  value: string;
  from_ms: number;
  /** end of the interval; Number.MAX_SAFE_INTEGER while open */
  to_ms: number;
  from: EventRef;
  to: EventRef | null;
}

/** Fact record ids start with "f" + U+001F: unique in the Redis outbox, which once held document intervals too. */
export function factRecordId(accountId: string, key: string, from: EventRef): string {
  return `f\u001f${accountId}\u001f${key}\u001f${from.event_id}`;
}

export function factRecord(accountId: string, key: string, value: string, from: EventRef, to: EventRef | null): FactIntervalRecord {
  return { account_id: accountId, fact_key: key, subject: rawSubject(key), value, from_ms: from.time_ms, to_ms: to ? to.time_ms : OPEN_END, from, to };
}

/** A raw fact's current value and the event that opened its interval (what Redis keeps per raw key). */
export interface RawValue {
  v: string;
  f: EventRef;
}

/** An account's raw facts with the opening event of each value. */
export interface RawState {
  values: RawFacts;
  opened: Map<string, EventRef>;
}
