/**
 * Access history: how one event changed one user's document, as intervals that close and open.
 * A user's profile is one interval key ('profile'); each entry is another, keyed by access type and
 * target. An entry whose paths change closes and reopens, so the past drill-down keeps its reasons.
 */
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

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The interval changes between two versions of a user's document (null: the user does not exist). */
export function diffDocs(before: UserDoc | null, after: UserDoc | null): DocChange[] {
  const changes: DocChange[] = [];
  const pb = before ? profileOf(before) : null;
  const pa = after ? profileOf(after) : null;
  if (!same(pb, pa))
    changes.push({
      key: PROFILE_KEY,
      closed: pb ? { kind: 'profile', profile: pb } : null,
      opened: pa ? { kind: 'profile', profile: pa } : null,
    });
  const old = new Map((before?.entries ?? []).map((e) => [entryKey(e), e]));
  const now = new Map((after?.entries ?? []).map((e) => [entryKey(e), e]));
  for (const key of new Set([...old.keys(), ...now.keys()])) {
    const o = old.get(key);
    const n = now.get(key);
    if (same(o, n)) continue;
    changes.push({
      key,
      closed: o ? { kind: 'entry', entry: o } : null,
      opened: n ? { kind: 'entry', entry: n } : null,
    });
  }
  return changes;
}
