/**
 * From history intervals to a user's list of access changes (pure).
 *
 * The projector keeps one interval per (user, key): the key is `profile` or one entry (access type
 * and target). An interval opens at the event that made the value true and closes at the event that
 * ended it. So, per (event, key):
 * - an interval opens and none closes: the entry was **granted** (the profile **created**);
 * - one closes and none opens: the entry was **revoked** (the profile **deleted**);
 * - one closes and another opens at the same event: the entry **changed** (paths, names), the
 *   profile was **updated**.
 */
import { compareCodePoints } from './compare.ts';
import type { Entry, IntervalValue, Profile } from '../../projections/index.ts';
import type { EventRef, HistoryRecord } from '../projector/history-records.ts';

export type EntryChangeKind = 'granted' | 'revoked' | 'changed';
export type ProfileChangeKind = 'created' | 'updated' | 'deleted';

interface ChangeBase {
  /** the event that caused the change */
  event: EventRef;
  /** the interval key: `profile` or the entry's key */
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

/** Where a change sits in a user's history: application order, then a fixed order within an event. */
export type ChangeKey = [seq: number, rank: number, key: string];

/**
 * Within one event: a profile that appears (created, updated) comes first, then the entries by key,
 * then a profile that disappears (deleted): the story reads "created, granted…" and "revoked…, deleted".
 */
function rank(change: HistoryChange): number {
  if (change.kind === 'entry') return 1;
  return change.change === 'deleted' ? 2 : 0;
}

export function changeKey(change: HistoryChange): ChangeKey {
  return [change.event.seq, rank(change), change.key];
}

export function compareChangeKeys(a: ChangeKey, b: ChangeKey): number {
  return a[0] - b[0] || a[1] - b[1] || compareCodePoints(a[2], b[2]);
}

function toChange(event: EventRef, key: string, opened: IntervalValue | undefined, closed: IntervalValue | undefined): HistoryChange | null {
  const value = opened ?? closed;
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

/**
 * The changes the intervals of one user describe, in application order (`seq`), then the order of
 * `rank` within an event. `include` decides which events count (e.g. only those a position reflects);
 * an interval whose closing event does not count is treated as still open.
 */
export function deriveChanges(records: Iterable<HistoryRecord>, include: (event: EventRef) => boolean = () => true): HistoryChange[] {
  const at = new Map<string, { event: EventRef; key: string; opened?: IntervalValue; closed?: IntervalValue }>();
  const slot = (event: EventRef, key: string) => {
    const id = `${event.seq}\u001f${key}`;
    let s = at.get(id);
    if (!s) at.set(id, (s = { event, key }));
    return s;
  };
  for (const record of records) {
    if (include(record.from)) slot(record.from, record.key).opened = record.value;
    if (record.to && include(record.to)) slot(record.to, record.key).closed = record.value;
  }
  const changes: HistoryChange[] = [];
  for (const s of at.values()) {
    const change = toChange(s.event, s.key, s.opened, s.closed);
    if (change) changes.push(change);
  }
  return changes.sort((a, b) => compareChangeKeys(changeKey(a), changeKey(b)));
}

/** Whether the positions (`topic:partition` -> last searchable offset) reflect the event. */
export function reflects(positions: ReadonlyMap<string, bigint>, event: Pick<EventRef, 'topic' | 'partition' | 'offset'>): boolean {
  const have = positions.get(`${event.topic}:${event.partition}`);
  return have !== undefined && BigInt(event.offset) <= have;
}
