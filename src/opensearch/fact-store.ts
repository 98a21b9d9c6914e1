/**
 * Reading fact intervals back from OpenSearch (`<namespace>-facts-<generation>`), page by page with
 * search_after on a unique sort, optionally inside a point in time (a stable snapshot).
 */
import type { Client, Types } from '@opensearch-project/opensearch';
import type { FactIntervalRecord } from '../records/fact-intervals.ts';

/** Where to read: a concrete index, or a point in time opened on one. */
export type RecordSource = { index: string } | { pit: string; keepAlive: string };

export interface ScanOptions {
  query: object;
  sort: object[];
  pageSize?: number;
}

interface SearchBody {
  hits: { hits: { _source: FactIntervalRecord; sort: Types.Common.SortResults }[] };
}

/** A unique sort of fact intervals: by key, then by the order their opening events were applied. */
export const FACT_SORT = [{ fact_key: 'asc' }, { 'from.seq': 'asc' }];

/** Every record the query matches, in the sort's order (the sort must be unique per record). */
export async function* scanRecords(opensearch: Client, source: RecordSource, options: ScanOptions): AsyncGenerator<FactIntervalRecord> {
  const size = options.pageSize ?? 2000;
  let after: Types.Common.SortResults | undefined;
  for (;;) {
    const body = {
      size,
      query: options.query,
      sort: options.sort,
      track_total_hits: false,
      ...(after ? { search_after: after } : {}),
      ...('pit' in source ? { pit: { id: source.pit, keep_alive: source.keepAlive } } : {}),
    };
    const response = await opensearch.search('pit' in source ? { body } : { index: source.index, body });
    const hits = (response.body as unknown as SearchBody).hits.hits;
    for (const hit of hits) yield hit._source;
    if (hits.length < size) return;
    after = hits[hits.length - 1]!.sort;
  }
}
