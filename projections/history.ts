/**
 * Access history: how one event changed one user's document, as intervals that close and open.
 * A user's profile is one interval key ('profile'); each entry is another, keyed by access type and
 * target. An entry whose paths change closes and reopens, so the past drill-down keeps its reasons.
 */
import { sameEntry, sameProfile } from './equality.ts';
import type { Entry, UserDoc } from './model.ts';

export const PROFILE_KEY = 'profile';

/** The interval key of an entry: one per (access type, target). */
export function entryKey(entry: Pick<Entry, 'access_type' | 'target'>): string {
  return `${entry.access_type}:${entry.target.type}:${entry.target.id}`;
}

export type Profile = Pick<UserDoc, 'display_name' | 'user_email' | 'user_access'>;

export type IntervalValue = { kind: 'entry'; entry: Entry } | { kind: 'profile'; profile: Profile };

export interface DocChange {
  key: string;
  /** the value whose interval ends here (null: nothing was open) */
  closed: IntervalValue | null;
  /** the value whose interval starts here (null: nothing opens) */
  opened: IntervalValue | null;
}

function profileOf(doc: UserDoc): Profile {
  return { display_name: doc.display_name, user_email: doc.user_email, user_access: doc.user_access };
}

/** The interval changes between two versions of a user's document (null: the user does not exist). */
export function diffDocs(before: UserDoc | null, after: UserDoc | null): DocChange[] {
  const changes: DocChange[] = [];
  if (!sameProfile(before, after))
    changes.push({
      key: PROFILE_KEY,
      closed: before ? { kind: 'profile', profile: profileOf(before) } : null,
      opened: after ? { kind: 'profile', profile: profileOf(after) } : null,
    });
  const old = new Map((before?.entries ?? []).map((e) => [entryKey(e), e]));
  const now = new Map((after?.entries ?? []).map((e) => [entryKey(e), e]));
  const entryChange = (key: string, o: Entry | undefined, n: Entry | undefined) => {
    if (sameEntry(o, n)) return;
    changes.push({
      key,
      closed: o ? { kind: 'entry', entry: o } : null,
      opened: n ? { kind: 'entry', entry: n } : null,
    });
  };
  // Keys of the old document first, then the new ones (the order of the records written).
  for (const [key, o] of old) entryChange(key, o, now.get(key));
  for (const [key, n] of now) if (!old.has(key)) entryChange(key, undefined, n);
  return changes;
}
