/**
 * Every fact interval a user's documents were ever derived from: the intervals of the user's own
 * subject, then of the roles, queues and inboxes those lead to, and so on until nothing new is
 * reached (projections/raw-facts.ts `rawSubject`, `reachedSubjects`). Three rounds at most: the
 * user's keys, then their roles and queues (with the queues' grants), then the inboxes.
 */
import type { Client } from '@opensearch-project/opensearch';
import { reachedSubjects, userSubject } from '../../projections/index.ts';
import type { FactIntervalRecord } from '../records/fact-intervals.ts';
import { FACT_SORT, type RecordSource, scanRecords } from '../opensearch/fact-store.ts';

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

/** The lookup on the facts index: the account's intervals with those subjects, in batches of terms. */
export function factsBySubject(opensearch: Client, source: RecordSource, accountId: string): SubjectLookup {
  return async function* (subjects) {
    for (let i = 0; i < subjects.length; i += TERMS_PER_QUERY) {
      const query = { bool: { filter: [{ term: { account_id: accountId } }, { terms: { subject: subjects.slice(i, i + TERMS_PER_QUERY) } }] } };
      yield* scanRecords(opensearch, source, { query, sort: FACT_SORT });
    }
  };
}
