/**
 * Every fact interval a user's documents were ever derived from: the intervals of the user's own
 * subject, then of the roles, queues and inboxes those lead to, and so on until nothing new is
 * reached (projections/raw-facts.ts `rawSubject`, `reachedSubjects`). Three rounds at most: the
 * user's keys, then their roles and queues (with the queues' grants), then the inboxes.
 */
import { reachedSubjects, userSubject } from '../../projections/index.ts';
import { type FactIntervalRecord, type IntervalSnapshot, mergeIntervals, seqLimit } from '../records/fact-intervals.ts';
import { FACT_SORT, scanRecords } from '../opensearch/fact-store.ts';
import type { IntervalSources } from './facts-at.ts';

/** Reads the account's intervals of the given subjects (every time, open and closed). */
export type SubjectLookup = (subjects: readonly string[]) => AsyncIterable<FactIntervalRecord> | Iterable<FactIntervalRecord>;

export async function userFacts(userId: string, lookup: SubjectLookup): Promise<FactIntervalRecord[]> {
  const asked = new Set<string>();
  const found: FactIntervalRecord[] = [];
  let frontier = [userSubject(userId)];
  while (frontier.length > 0) {
    for (const s of frontier) asked.add(s);
    const next = new Set<string>();
    for await (const r of lookup(frontier)) {
      found.push(r);
      for (const s of reachedSubjects(r.fact_key, r.value)) if (!asked.has(s)) next.add(s);
    }
    frontier = [...next];
  }
  return found;
}

/** Subjects per terms query: well under OpenSearch's limit, and a reasonable request size. */
const TERMS_PER_QUERY = 1_000;

/**
 * The lookup on Redis and the facts index (decision 47): the account's intervals with those
 * subjects, Redis first, then the index in batches of terms, merged as of the account's version
 * at the first lookup (every round of one history reads the same state). `onState` learns that
 * first state (its applied offsets are what the answer reflects).
 */
export function factsBySubject(sources: IntervalSources, accountId: string, onState?: (state: IntervalSnapshot) => void): SubjectLookup {
  let version: number | undefined;
  return async function* (subjects) {
    const snapshot = await sources.subjects(accountId, subjects);
    if (version === undefined) {
      version = snapshot.version;
      onState?.(snapshot);
    }
    const limit = seqLimit(version);
    const indexed: FactIntervalRecord[] = [];
    for (let i = 0; i < subjects.length; i += TERMS_PER_QUERY) {
      const terms = subjects.slice(i, i + TERMS_PER_QUERY);
      const query = { bool: { filter: [{ term: { account_id: accountId } }, { terms: { subject: terms } }, { range: { 'from.seq': { lt: limit } } }] } };
      for await (const r of scanRecords(sources.opensearch, { index: sources.index }, { query, sort: FACT_SORT })) indexed.push(r);
    }
    yield* mergeIntervals(version, indexed, snapshot);
  };
}
