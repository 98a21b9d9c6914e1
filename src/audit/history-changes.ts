/**
 * A user's list of access changes, derived from the raw fact intervals (pure): the same intervals
 * `as_of` reads (decision 19), so the history replayed by its `at` times gives exactly what `as_of`
 * gives for that user at every instant (decision 30).
 *
 * The intervals are those of every raw fact the user's documents were ever derived from (their own
 * keys, and the roles, queues and inboxes these lead to: projections/raw-facts.ts `reachedSubjects`).
 * At every instant where one of them opens or closes, the user's document is derived from the facts
 * valid then (`from_ms <= T < to_ms`) and compared with the one before: an entry that appears was
 * **granted**, one that disappears **revoked**, one whose paths or names differ **changed**; the
 * profile **created**, **updated**, **deleted**. Each change names the event at that instant that
 * caused it (of several events at the same millisecond, the one applied last).
 */
import { compareCodePoints } from './compare.ts';
import { type DocChange, type Entry, type IntervalValue, type Profile, type UserDoc, deriveUser, diffDocs, loadFacts } from '../../projections/index.ts';
import type { EventRef, FactIntervalRecord } from '../records/fact-intervals.ts';

export type EntryChangeKind = 'granted' | 'revoked' | 'changed';
export type ProfileChangeKind = 'created' | 'updated' | 'deleted';

interface ChangeBase {
  /** the event that caused the change */
  event: EventRef;
  /** `profile` or the entry's key (projections/history.ts) */
  key: string;
}

export interface EntryChange extends ChangeBase {
  kind: 'entry';
  change: EntryChangeKind;
  /** after the change; for revoked, the entry as it was */
  entry: Entry;
  /** before the change (changed only) */
  previous: Entry | null;
}

export interface ProfileChange extends ChangeBase {
  kind: 'profile';
  change: ProfileChangeKind;
  /** after the change; for deleted, the profile as it was */
  profile: Profile;
  /** before the change (updated only) */
  previous: Profile | null;
}

export type HistoryChange = EntryChange | ProfileChange;

/** Where a change sits in a user's history: event time, then a fixed order within an instant. */
export type ChangeKey = [timeMs: number, rank: number, key: string];

/**
 * Within one instant: a profile that appears (created, updated) comes first, then the entries by key,
 * then a profile that disappears (deleted): the story reads "created, granted…" and "revoked…, deleted".
 */
function rank(change: HistoryChange): number {
  if (change.kind === 'entry') return 1;
  return change.change === 'deleted' ? 2 : 0;
}

export function changeKey(change: HistoryChange): ChangeKey {
  return [change.event.time_ms, rank(change), change.key];
}

export function compareChangeKeys(a: ChangeKey, b: ChangeKey): number {
  return a[0] - b[0] || a[1] - b[1] || compareCodePoints(a[2], b[2]);
}

function toChange(event: EventRef, { key, opened, closed }: DocChange): HistoryChange | null {
  const value: IntervalValue | null = opened ?? closed;
  if (!value) return null;
  if (value.kind === 'entry') {
    const change: EntryChangeKind = opened && closed ? 'changed' : opened ? 'granted' : 'revoked';
    const previous = change === 'changed' && closed?.kind === 'entry' ? closed.entry : null;
    return { kind: 'entry', event, key, change, entry: value.entry, previous };
  }
  const change: ProfileChangeKind = opened && closed ? 'updated' : opened ? 'created' : 'deleted';
  const previous = change === 'updated' && closed?.kind === 'profile' ? closed.profile : null;
  return { kind: 'profile', event, key, change, profile: value.profile, previous };
}

/** An interval as far as `include` lets it be seen: null when its opening event does not count. */
function visible(record: FactIntervalRecord, include: (event: EventRef) => boolean): { r: FactIntervalRecord; toMs: number } | null {
  if (!include(record.from)) return null;
  const closed = record.to !== null && include(record.to);
  return { r: record, toMs: closed ? record.to_ms : Number.POSITIVE_INFINITY };
}

/**
 * The user's changes the intervals describe, in event-time order (then `rank`, then key).
 * `include` decides which events count (e.g. only those a position reflects): an interval opened by
 * an event that does not count is left out, one closed by such an event is still open.
 */
export function deriveChanges(userId: string, records: Iterable<FactIntervalRecord>, include: (event: EventRef) => boolean = () => true): HistoryChange[] {
  const intervals = [...records].flatMap((record) => visible(record, include) ?? []).filter((i) => i.r.from_ms < i.toMs);
  // Every instant where something opens or closes, with the events there (the last applied causes).
  const causes = new Map<number, EventRef>();
  const note = (event: EventRef) => {
    const held = causes.get(event.time_ms);
    if (!held || event.seq > held.seq) causes.set(event.time_ms, event);
  };
  for (const { r, toMs } of intervals) {
    note(r.from);
    if (Number.isFinite(toMs)) note(r.to!);
  }
  const opening = [...intervals].sort((a, b) => a.r.from_ms - b.r.from_ms);
  const closing = intervals.filter((i) => Number.isFinite(i.toMs)).sort((a, b) => a.toMs - b.toMs);
  // Valid intervals per key; of two that overlap (event times ran backwards within a topic) the later applied wins.
  const valid = new Map<string, Set<FactIntervalRecord>>();
  let o = 0;
  let c = 0;
  let before: UserDoc | null = null;
  const changes: HistoryChange[] = [];
  for (const at of [...causes.keys()].sort((a, b) => a - b)) {
    for (; c < closing.length && closing[c]!.toMs <= at; c++) valid.get(closing[c]!.r.fact_key)?.delete(closing[c]!.r);
    for (; o < opening.length && opening[o]!.r.from_ms <= at; o++) {
      const { r, toMs } = opening[o]!;
      if (toMs <= at) continue;
      const set = valid.get(r.fact_key) ?? new Set();
      set.add(r);
      valid.set(r.fact_key, set);
    }
    const flat: [string, string][] = [];
    for (const [key, set] of valid) {
      let winner: FactIntervalRecord | undefined;
      for (const r of set) if (!winner || r.from.seq > winner.from.seq) winner = r;
      if (winner) flat.push([key, winner.value]);
    }
    const after = deriveUser(loadFacts(flat), userId);
    const event = causes.get(at)!;
    for (const diff of diffDocs(before, after)) {
      const change = toChange(event, diff);
      if (change) changes.push(change);
    }
    before = after;
  }
  return changes.sort((a, b) => compareChangeKeys(changeKey(a), changeKey(b)));
}

/** Whether the positions (`topic:partition` -> last searchable offset) reflect the event. */
export function reflects(positions: ReadonlyMap<string, bigint>, event: Pick<EventRef, 'topic' | 'partition' | 'offset'>): boolean {
  const have = positions.get(`${event.topic}:${event.partition}`);
  return have !== undefined && BigInt(event.offset) <= have;
}
