/**
 * Fact intervals: each raw fact's value over an interval of event time (projections/raw-facts.ts).
 * What `as_of` and a user's history read (decisions 19, 30 and 47). An interval is written to
 * OpenSearch once, when it closes; while open it is the raw fact itself, which Redis keeps with the
 * event that set it. Ids are derived from the interval's first event, so a replay writes the same
 * documents. A reader merges the two (`mergeIntervals`).
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

/**
 * One copy of each event type and topic name among the event references an account holds: every
 * raw fact keeps the reference of the event that opened it, and a string parsed from JSON is a copy
 * of its own (about 70 of the 650 bytes a raw fact costs the projector's cache, bench/account-memory.ts).
 */
const SHARED_NAMES = new Map<string, string>();
/** The names shared at most: types and topics are a handful; anything past this is kept as it came. */
const SHARED_NAMES_MAX = 1_024;

export function sharedName(name: string): string {
  const shared = SHARED_NAMES.get(name);
  if (shared !== undefined) return shared;
  if (SHARED_NAMES.size < SHARED_NAMES_MAX) SHARED_NAMES.set(name, name);
  return name;
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

/** What every record id of one raw key starts with (`f␟<account>␟<key>␟`): the outbox is searched by it (src/redis/entity-names.ts). */
export function factRecordIdPrefix(accountId: string, key: string): string {
  return `f\u001f${accountId}\u001f${key}\u001f`;
}

/** Fact record ids start with "f" + U+001F: unique in the Redis outbox, which once held document intervals too. */
export function factRecordId(accountId: string, key: string, from: EventRef): string {
  return `${factRecordIdPrefix(accountId, key)}${from.event_id}`;
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

/** No raw facts yet (a store read in pieces adds each piece to it). */
export function emptyRaw(): RawState {
  return { values: new Map(), opened: new Map() };
}

/** Sequence numbers of one commit: `version × 1e6 + position` (src/projector/plan-batch.ts). */
export const SEQ_PER_VERSION = 1_000_000;

/** The member of a raw key in the account's subject index (src/redis/keys.ts `rawSubjects`). */
export function subjectMember(key: string): string {
  return `${rawSubject(key)}\u0000${key}`;
}

/** The lex range (ZRANGEBYLEX min, max) of a subject's members. */
export function subjectRange(subject: string): [string, string] {
  return [`[${subject}\u0000`, `(${subject}\u0001`];
}

/** The open interval a raw fact is: the record it will be once closed, without an end. */
export function openRecord(accountId: string, key: string, raw: RawValue): FactIntervalRecord {
  return factRecord(accountId, key, raw.v, raw.f, null);
}

/**
 * What Redis holds of an account's intervals at one moment (read atomically): its version, its
 * open intervals (the raw facts, possibly of some subjects only), and the closed records that no
 * refresh has shown yet (the interval outbox).
 */
/** What names one state of an account within its generation: its version in the epoch, and its applied offsets then. */
export interface AccountHead {
  version: number;
  epoch: number;
  /** `<topic>:<partition>` -> offset: the events the state reflects */
  offsets: Map<string, bigint>;
}

export interface IntervalSnapshot {
  version: number;
  /** the generation's epoch, when read with the account (src/redis/open-intervals.ts readAccountIntervals) */
  epoch?: number;
  /** the account's applied offsets at that version (`<topic>:<partition>` -> offset): the events it reflects */
  offsets: Map<string, bigint>;
  open: FactIntervalRecord[];
  closed: FactIntervalRecord[];
}

/**
 * The intervals of an account as of its version `version`, from the records the index gave and
 * what Redis gave (its open and unrefreshed closed records, read before the index, at `version` or later):
 * - a record opened by a later commit is left out, one closed by a later commit is open again;
 * - of one id, the record of the later application wins (an event applied again past the dedupe
 *   window reopens its id), and of one application a closed record wins over an open one.
 * Exact when every interval closed at `version` or before is in a snapshot's outbox or was shown by
 * a refresh before the index was read: the outbox is cleared only after such a refresh.
 */
export function mergeIntervals(version: number, indexed: Iterable<FactIntervalRecord>, redis: Pick<IntervalSnapshot, 'open' | 'closed'>): FactIntervalRecord[] {
  const limit = seqLimit(version);
  const byId = new Map<string, FactIntervalRecord>();
  const take = (r: FactIntervalRecord): void => {
    if (r.from.seq >= limit) return;
    const record = r.to && r.to.seq >= limit ? { ...r, to: null, to_ms: OPEN_END } : r;
    const id = factRecordId(record.account_id, record.fact_key, record.from);
    const held = byId.get(id);
    // A copy of an event applied again past the dedupe window (decision 6) opens an interval with
    // the id of the one the original opened: the later application wins, as its write did.
    if (!held || record.from.seq > held.from.seq || (record.from.seq === held.from.seq && held.to === null && record.to !== null)) byId.set(id, record);
  };
  for (const r of indexed) take(r);
  for (const r of redis.closed) take(r);
  for (const r of redis.open) take(r);
  // The index's order (FACT_SORT): by key, then by the order the opening events were applied.
  return [...byId.values()].sort((a, b) => (a.fact_key < b.fact_key ? -1 : a.fact_key > b.fact_key ? 1 : a.from.seq - b.from.seq));
}

/** The first `seq` past the commits up to `version`: records opened from it on are left out, closed from it on count as open. */
export function seqLimit(version: number): number {
  return (version + 1) * SEQ_PER_VERSION;
}
