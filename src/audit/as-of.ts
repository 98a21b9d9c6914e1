/**
 * The report as of an instant T, from history intervals (pure).
 *
 * An interval holds from its opening event's time (included) to its closing event's time
 * (excluded): it is valid at T when `from_ms <= T < to_ms`. The users existing at T are those with
 * a valid profile interval; their entries are their valid entry intervals. From these, the core's
 * documents, and from them everything the live report computes (rows, drill-downs, summary, CSV).
 */
import { type Entry, PROFILE_KEY, type Profile, type UserDoc, compareEntries } from '../../projections/index.ts';
import type { HistoryRecord } from '../projector/history-records.ts';

/** Whether the interval holds at `asOfMs` (half-open: the closing event's instant is already after). */
export function validAt(record: Pick<HistoryRecord, 'from_ms' | 'to_ms'>, asOfMs: number): boolean {
  return record.from_ms <= asOfMs && asOfMs < record.to_ms;
}

/** The OpenSearch filter of an account's intervals valid at `asOfMs` (optionally of some users). */
export function validAtQuery(accountId: string, asOfMs: number, userIds?: readonly string[]): object {
  const filter: object[] = [
    { term: { account_id: accountId } },
    { range: { from_ms: { lte: asOfMs } } },
    { range: { to_ms: { gt: asOfMs } } },
  ];
  if (userIds) filter.push({ terms: { user_id: [...userIds] } });
  return { bool: { filter } };
}

/** The sort of interval reads: one user's records together, and a unique key per record. */
export const RECORD_SORT = [{ user_id: 'asc' }, { key: 'asc' }, { 'from.seq': 'asc' }];

/**
 * One user's document at `asOfMs` from their records (any records: those not valid are ignored), or
 * null when the user did not exist then. Should two intervals of one key both hold (possible only
 * when event times run backwards against the order of application), the later-applied one wins.
 */
export function userDocAt(userId: string, records: Iterable<HistoryRecord>, asOfMs: number): UserDoc | null {
  let profile: { seq: number; value: Profile } | undefined;
  const entries = new Map<string, { seq: number; value: Entry }>();
  for (const r of records) {
    if (r.user_id !== userId || !validAt(r, asOfMs)) continue;
    const seq = r.from.seq;
    if (r.value.kind === 'profile') {
      if (r.key === PROFILE_KEY && (!profile || seq > profile.seq)) profile = { seq, value: r.value.profile };
    } else {
      const held = entries.get(r.key);
      if (!held || seq > held.seq) entries.set(r.key, { seq, value: r.value.entry });
    }
  }
  if (!profile) return null;
  return {
    user_id: userId,
    display_name: profile.value.display_name,
    user_email: profile.value.user_email,
    user_access: profile.value.user_access,
    entries: [...entries.values()].map((e) => e.value).sort(compareEntries),
  };
}

/** Every user's document at `asOfMs`, by user id (records in any order). */
export function docsAt(records: Iterable<HistoryRecord>, asOfMs: number): Map<string, UserDoc> {
  const byUser = new Map<string, HistoryRecord[]>();
  for (const r of records) {
    const list = byUser.get(r.user_id);
    if (list) list.push(r);
    else byUser.set(r.user_id, [r]);
  }
  const docs = new Map<string, UserDoc>();
  for (const userId of [...byUser.keys()].sort()) {
    const doc = userDocAt(userId, byUser.get(userId)!, asOfMs);
    if (doc) docs.set(userId, doc);
  }
  return docs;
}

/**
 * Groups records that arrive sorted by user id into each user's document at `asOfMs` (users who
 * did not exist then are skipped). Memory: one user's records at a time.
 */
export async function* groupDocsAt(records: AsyncIterable<HistoryRecord>, asOfMs: number): AsyncGenerator<UserDoc> {
  let userId: string | undefined;
  let batch: HistoryRecord[] = [];
  for await (const r of records) {
    if (r.user_id !== userId) {
      if (userId !== undefined) {
        const doc = userDocAt(userId, batch, asOfMs);
        if (doc) yield doc;
      }
      userId = r.user_id;
      batch = [];
    }
    batch.push(r);
  }
  if (userId !== undefined) {
    const doc = userDocAt(userId, batch, asOfMs);
    if (doc) yield doc;
  }
}
