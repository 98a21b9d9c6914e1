/**
 * Equality of derived documents, field by field. The projector compares a user's document before
 * and after every event that may touch it; comparing JSON strings of whole documents cost a tenth
 * of its CPU (docs/benchmarks-journal.md, part 1 §5.2). Arrays compare in order, as the rules derive them in a
 * canonical order (entries sorted, paths sorted): equal here exactly when their JSON is equal.
 */
import type { Entry, NamedRef, Path, UserDoc } from './model.ts';

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (!same(a[i]!, b[i]!)) return false;
  return true;
}

const sameScalar = <T>(x: T, y: T) => x === y;
const sameRef = (x: NamedRef, y: NamedRef) => x.id === y.id && x.name === y.name;
const sameId = (x: NamedRef, y: NamedRef) => x.id === y.id;
const samePath = (x: Path, y: Path) => x.rule === y.rule && x.channel === y.channel && x.queue_id === y.queue_id && x.role_id === y.role_id && x.member_type === y.member_type;

/**
 * Two entries grant the same access, to the same named target, through the same paths. With
 * `names` false the names of the target and the queues do not count (the stored document: decision 64).
 */
export function sameEntry(a: Entry | undefined, b: Entry | undefined, names = true): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.access_type === b.access_type &&
    a.target.type === b.target.type &&
    a.target.id === b.target.id &&
    (!names || a.target.name === b.target.name) &&
    sameList(a.channels, b.channels, sameScalar) &&
    sameList(a.queues, b.queues, names ? sameRef : sameId) &&
    sameList(a.granted_by, b.granted_by, samePath)
  );
}

/** Same name, e-mail and access state (the history's profile interval). */
export function sameProfile(
  a: Pick<UserDoc, 'display_name' | 'user_email' | 'user_access'> | null,
  b: Pick<UserDoc, 'display_name' | 'user_email' | 'user_access'> | null,
): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.display_name === b.display_name && a.user_email === b.user_email && a.user_access === b.user_access;
}

/** Two versions of a user's document are the same (null: the user does not exist); `names` as sameEntry's. */
export function sameDoc(a: UserDoc | null, b: UserDoc | null, names = true): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.user_id === b.user_id && sameProfile(a, b) && sameList(a.entries, b.entries, names ? sameNamedEntry : sameUnnamedEntry);
}

const sameNamedEntry = (a: Entry, b: Entry) => sameEntry(a, b, true);
const sameUnnamedEntry = (a: Entry, b: Entry) => sameEntry(a, b, false);
