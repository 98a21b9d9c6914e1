/**
 * Paging through report rows with a point in time (PIT) and search_after: every page of one listing
 * reads the same snapshot, so following next_cursor reaches each matching row exactly once, at any
 * depth (no 10,000-hit window), even while the projector keeps writing. A listing that fits one
 * page needs no snapshot at all.
 */
import type { Client } from '@opensearch-project/opensearch';
import { AppError } from '../errors.ts';
import type { IndexedUser } from '../opensearch/user-document.ts';
import { decodeCursor, encodeCursor, filterHash } from './cursor.ts';
import { missingIndexError } from './integrity-gate.ts';
import { badRequest } from './problem.ts';
import { type UserRow, type UsersFilter, type UsersSort, buildSort, buildUsersQuery, rowSourceFields, toUserRow } from './users-query.ts';

/** How long an idle listing's snapshot is kept: a reader has this long to ask for the next page. */
export const PIT_KEEP_ALIVE = '5m';

export interface PageRequest {
  index: string;
  filter: UsersFilter;
  sort: UsersSort;
  size: number;
  cursor?: string | undefined;
  /** the positions the index reflected just before this request (kept for the whole listing) */
  position: string;
  /** signs cursors */
  secret: string;
}

export interface PageResult {
  rows: UserRow[];
  total: number;
  nextCursor: string | null;
  /** the position of the listing's snapshot */
  position: string;
}

interface Hit<T> {
  _source: T;
  sort: unknown[];
}
interface SearchBody<T> {
  pit_id?: string;
  hits: { total: { value: number }; hits: Hit<T>[] };
}

function errorType(error: unknown): string {
  const e = error as { meta?: { statusCode?: number; body?: { error?: { type?: string; root_cause?: { type?: string }[] } } }; message?: string };
  return `${e.meta?.body?.error?.type ?? ''} ${e.meta?.body?.error?.root_cause?.map((c) => c.type).join(' ') ?? ''} ${e.message ?? ''}`;
}

/** OpenSearch failures a client can act on, as our errors; anything else is rethrown as is. */
export function translate(error: unknown, withCursor: boolean): unknown {
  const type = errorType(error);
  if (type.includes('index_not_found') || type.includes('index_closed')) return missingIndexError(error);
  if (withCursor && /search_context_missing|point in time|pit/i.test(type))
    return badRequest('the cursor has expired (listings stay open 5 minutes between pages); start again without it', [{ field: 'cursor', message: 'expired' }]);
  if (/too many|max_open_pit/i.test(type)) return new AppError('opensearch_unavailable', 'too many listings are open right now; retry shortly', { retriable: true, cause: error });
  return error;
}

/** Opens a snapshot of `index` for PIT_KEEP_ALIVE. */
export async function openPit(opensearch: Client, index: string): Promise<string> {
  try {
    const response = await opensearch.createPit({ index: [index], keep_alive: PIT_KEEP_ALIVE });
    return response.body.pit_id;
  } catch (error) {
    throw translate(error, false);
  }
}

/** Frees a snapshot early; a failure only means it lives until keep_alive ends. */
export async function closePit(opensearch: Client, pit: string): Promise<void> {
  await opensearch.deletePit({ body: { pit_id: [pit] } }).catch(() => undefined);
}

/** A search, OpenSearch's failures translated; `withCursor` says whether a cursor's snapshot was asked for. */
async function search<T>(opensearch: Client, params: { index?: string; body: Record<string, unknown> }, withCursor: boolean): Promise<SearchBody<T>> {
  try {
    const response = await opensearch.search(params);
    return response.body as unknown as SearchBody<T>;
  } catch (error) {
    throw translate(error, withCursor);
  }
}

/** A search in a snapshot (renewing its keep-alive). */
function searchPit<T>(opensearch: Client, pit: string, body: Record<string, unknown>, withCursor: boolean): Promise<SearchBody<T>> {
  return search<T>(opensearch, { body: { ...body, pit: { id: pit, keep_alive: PIT_KEEP_ALIVE } } }, withCursor);
}

/** The target filters of a cursor's hash, only when given (so cursors of other listings hash as before). */
function targetHashParts(filter: UsersFilter): Record<string, string> {
  return { ...(filter.inbox_id !== undefined ? { inbox_id: filter.inbox_id } : {}), ...(filter.cc_queue_id !== undefined ? { cc_queue_id: filter.cc_queue_id } : {}) };
}

/** The hash binding a cursor to its account, filters and sort (and `extra`, e.g. the as_of instant). */
export function listingHash(filter: UsersFilter, sort: UsersSort, extra: Record<string, unknown> = {}): string {
  return filterHash({
    ...extra,
    account: filter.accountId,
    q: filter.q ?? '',
    channel: filter.channel,
    access_type: filter.access_type,
    ...targetHashParts(filter),
    empty: filter.includeEmpty ?? false,
    sort: sort.sort,
    order: sort.order,
  });
}

/**
 * One page of report rows. A first page is searched in the index itself: when it holds every
 * matching row (the common case of a keyword search) that is the whole answer, with no snapshot
 * to open and free. Otherwise a snapshot is opened and the first page read again from it, so that
 * every page of the listing, the first included, comes from one snapshot. Following pages continue
 * the snapshot via the cursor. (Opening the snapshot during the first search instead, to save a
 * round trip on long listings, made one-page searches slower: three requests of API and OpenSearch
 * CPU instead of one; docs/benchmarks-journal.md.)
 */
export async function searchUsersPage(opensearch: Client, request: PageRequest): Promise<PageResult> {
  const hash = listingHash(request.filter, request.sort);
  const query = {
    size: request.size,
    query: buildUsersQuery(request.filter, request.sort),
    sort: buildSort(request.sort, request.filter),
    track_total_hits: true,
    _source: rowSourceFields(request.filter),
  };
  if (request.cursor === undefined) {
    // The index itself, no snapshot: a first page that may turn out to be the only one.
    const only = await search<IndexedUser>(opensearch, { index: request.index, body: query }, false);
    if (only.hits.total.value <= request.size)
      return { rows: only.hits.hits.map((hit) => toUserRow(hit._source, request.filter)), total: only.hits.total.value, nextCursor: null, position: request.position };
  }
  let state = { pit: '', after: undefined as unknown[] | undefined, delivered: 0, position: request.position };
  if (request.cursor !== undefined) {
    const decoded = decodeCursor(request.cursor, request.secret);
    if (!decoded) throw badRequest('the cursor is not one this API gave out', [{ field: 'cursor', message: 'not a valid cursor' }]);
    if (decoded.filter !== hash)
      throw badRequest('the cursor belongs to a listing with other filters or sort; start again without it', [{ field: 'cursor', message: 'does not match the filters' }]);
    state = { pit: decoded.pit, after: decoded.after, delivered: decoded.delivered, position: decoded.position };
  } else state.pit = await openPit(opensearch, request.index);

  const body = await searchPit<IndexedUser>(opensearch, state.pit, { ...query, ...(state.after ? { search_after: state.after } : {}) }, request.cursor !== undefined);
  const hits = body.hits.hits;
  const pit = body.pit_id ?? state.pit;
  const delivered = state.delivered + hits.length;
  const total = body.hits.total.value;
  const more = hits.length === request.size && delivered < total;
  // The last page hands out no cursor, so nobody comes back to the snapshot: it is closed now
  // rather than held for its keep-alive (OpenSearch allows 300 open at once, shared by every
  // listing). That includes a listing that fits one page after all (the snapshot may hold fewer
  // rows than the index had a moment before, when a user lost access).
  if (!more) await closePit(opensearch, pit);
  return {
    rows: hits.map((hit) => toUserRow(hit._source, request.filter)),
    total,
    nextCursor: more ? encodeCursor({ pit, after: hits[hits.length - 1]!.sort, filter: hash, delivered, position: state.position }, request.secret) : null,
    position: state.position,
  };
}

/**
 * Every matching indexed user (with entries), in the listing's order, page by page from one
 * snapshot; the snapshot is freed when the iteration ends, completes or is abandoned.
 */
export async function* scanUsers(opensearch: Client, index: string, filter: UsersFilter, sort: UsersSort, pageSize = 500): AsyncGenerator<IndexedUser> {
  let pit = await openPit(opensearch, index);
  let after: unknown[] | undefined;
  try {
    for (;;) {
      const body = await searchPit<IndexedUser>(
        opensearch,
        pit,
        { size: pageSize, query: buildUsersQuery(filter, sort), sort: buildSort(sort, filter), track_total_hits: false, ...(after ? { search_after: after } : {}) },
        false,
      );
      pit = body.pit_id ?? pit;
      for (const hit of body.hits.hits) yield hit._source;
      if (body.hits.hits.length < pageSize) return;
      after = body.hits.hits[body.hits.hits.length - 1]!.sort;
    }
  } finally {
    await closePit(opensearch, pit);
  }
}
