/**
 * Reading history intervals back from OpenSearch (`<namespace>-history-<generation>`), page by page
 * with search_after on a unique sort, optionally inside a point in time (a stable snapshot).
 */
import type { Client } from '@opensearch-project/opensearch';
import type { HistoryRecord } from '../projector/history-records.ts';
import { RECORD_SORT, validAtQuery } from './as-of.ts';

/** Where to read: a concrete index, or a point in time opened on one. */
export type RecordSource = { index: string } | { pit: string; keepAlive: string };

export interface ScanOptions {
  query: object;
  sort: object[];
  pageSize?: number;
}

interface SearchBody {
  hits: { hits: { _source: HistoryRecord; sort: unknown[] }[] };
}

/** Every record the query matches, in the sort's order (the sort must be unique per record). */
export async function* scanRecords(opensearch: Client, source: RecordSource, options: ScanOptions): AsyncGenerator<HistoryRecord> {
  const size = options.pageSize ?? 2000;
  let after: unknown[] | undefined;
  for (;;) {
    const body = {
      size,
      query: options.query,
      sort: options.sort,
      track_total_hits: false,
      ...(after ? { search_after: after } : {}),
      ...('pit' in source ? { pit: { id: source.pit, keep_alive: source.keepAlive } } : {}),
    };
    const response = await opensearch.search(('pit' in source ? { body } : { index: source.index, body }) as never);
    const hits = (response.body as unknown as SearchBody).hits.hits;
    for (const hit of hits) yield hit._source;
    if (hits.length < size) return;
    after = hits[hits.length - 1]!.sort;
  }
}

/** The account's intervals valid at `asOfMs` (optionally of some users), sorted by user then key. */
export function recordsValidAt(opensearch: Client, source: RecordSource, accountId: string, asOfMs: number, userIds?: readonly string[]): AsyncGenerator<HistoryRecord> {
  return scanRecords(opensearch, source, { query: validAtQuery(accountId, asOfMs, userIds), sort: RECORD_SORT });
}

/**
 * One user's intervals, sorted by opening event then key. With `sinceSeq`, only those opened or
 * closed at or after that point of the account's order (what a later page of the history needs).
 */
export function userRecords(opensearch: Client, source: RecordSource, accountId: string, userId: string, sinceSeq?: number): AsyncGenerator<HistoryRecord> {
  const filter: object[] = [{ term: { account_id: accountId } }, { term: { user_id: userId } }];
  if (sinceSeq !== undefined)
    filter.push({ bool: { should: [{ range: { 'from.seq': { gte: sinceSeq } } }, { range: { 'to.seq': { gte: sinceSeq } } }], minimum_should_match: 1 } });
  return scanRecords(opensearch, source, { query: { bool: { filter } }, sort: [{ 'from.seq': 'asc' }, { key: 'asc' }] });
}
