/**
 * Answers `as_of` an instant T, from the fact intervals of the live generation (not a replay).
 *
 * The raw fact intervals valid at T (`from_ms <= T < to_ms`) of the account are read in pages
 * (search_after inside a point in time) into the account's facts at T, the core derives the
 * documents at T (src/audit/facts-at.ts), and everything else is
 * the live report's own logic: the summary from the documents' counter contributions, rows and
 * drill-downs through the same filters, the listing's search and order computed in memory
 * (as-of-listing.ts), paged with signed cursors bound to T, the filters and the sort.
 *
 * Cost: each answer reads every fact of the account valid at T. Memory is the account's facts at T
 * (what the projector holds for it) plus, for listings, one small row per listed user.
 */
import type { Client } from '@opensearch-project/opensearch';
import { type ChannelScope, type Summary, type UserDoc, contributions, deriveUser, summaryFromCounters } from '../../projections/index.ts';
import { parseEventTime } from '../../schemas/fields.ts';
import { docsFromFacts, docsOfFacts, factsAt, factsValidAt } from '../audit/facts-at.ts';
import type { FactIntervalRecord } from '../records/fact-intervals.ts';
import { listRowsOf, pageAfter } from './as-of-listing.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { badRequest } from './problem.ts';
import type { UsersFilter, UsersSort } from './users-query.ts';
import { PIT_KEEP_ALIVE, type PageRequest, type PageResult, closePit, listingHash, openPit, translate } from './users-search.ts';

/** Epoch milliseconds of a validated `as_of` (finer digits than milliseconds are dropped, as for event times). */
export function asOfMs(text: string): number {
  return parseEventTime(text);
}

/** Rethrows OpenSearch failures of a history read as the API's errors. */
async function* translated<T>(source: AsyncGenerator<T>, withCursor: boolean): AsyncGenerator<T> {
  try {
    for (;;) {
      let next: IteratorResult<T>;
      try {
        next = await source.next();
      } catch (error) {
        throw translate(error, withCursor);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await source.return(undefined);
  }
}

/** The documents at T, from the fact intervals valid then (read inside the point in time `pit`). */
function docsAt(opensearch: Client, pit: string, accountId: string, at: number, withCursor = false, userIds?: readonly string[]): AsyncGenerator<UserDoc> {
  const records = translated<FactIntervalRecord>(factsValidAt(opensearch, { pit, keepAlive: PIT_KEEP_ALIVE }, accountId, at), withCursor);
  return docsFromFacts(records, userIds);
}

/** The summary of `scope` at T: the sum of each document's counter contributions, as the counters hold them live. */
export async function summaryAsOf(opensearch: Client, factsIndex: string, accountId: string, at: number, scope: ChannelScope): Promise<Summary> {
  const pit = await openPit(opensearch, factsIndex);
  try {
    const counts = new Map<string, number>();
    for await (const doc of docsAt(opensearch, pit, accountId, at))
      for (const key of contributions(doc)) if (key.split('|')[1] === scope) counts.set(key, (counts.get(key) ?? 0) + 1);
    const { users, queues, inboxes } = summaryFromCounters(counts, scope);
    // The live summary's field order, so both answers read alike.
    return {
      users: { total: users.total, inbox: users.inbox, automatic_call_recording: users.automatic_call_recording, ad_hoc_call_recording: users.ad_hoc_call_recording },
      queues: { inbox: queues.inbox, automatic_call_recording: queues.automatic_call_recording, ad_hoc_call_recording: queues.ad_hoc_call_recording },
      inboxes,
    };
  } finally {
    await closePit(opensearch, pit);
  }
}

/** One user's document at T, or null when the user did not exist then. */
export async function userAsOf(opensearch: Client, factsIndex: string, accountId: string, userId: string, at: number): Promise<UserDoc | null> {
  for await (const doc of docsFromFacts(translated(factsValidAt(opensearch, { index: factsIndex }, accountId, at), false), [userId])) return doc;
  return null;
}

/** A page request of the listing at T: like a live one, but read from the facts index at `at`. */
export interface AsOfPageRequest extends Omit<PageRequest, 'index'> {
  /** the generation's facts index (what as_of reads) */
  factsIndex: string;
  at: number;
}

export type AsOfPageResult = PageResult;

/** The hash binding an as_of cursor to its instant, account, filters and sort. */
export function asOfListingHash(at: number, filter: UsersFilter, sort: UsersSort): string {
  return listingHash(filter, sort, { as_of: at });
}

/**
 * A page of rows at T. The first page opens a point in time on the history index; a listing longer
 * than a page keeps it (5 minutes between pages) and every page recomputes the rows from that same
 * snapshot, then continues after the previous page's last sort key.
 */
export async function usersPageAsOf(opensearch: Client, request: AsOfPageRequest): Promise<AsOfPageResult> {
  const hash = asOfListingHash(request.at, request.filter, request.sort);
  let state = { pit: '', after: undefined as (string | number)[] | undefined, delivered: 0, position: request.position };
  if (request.cursor !== undefined) {
    const decoded = decodeCursor(request.cursor, request.secret);
    if (!decoded) throw badRequest('the cursor is not one this API gave out', [{ field: 'cursor', message: 'not a valid cursor' }]);
    if (decoded.filter !== hash)
      throw badRequest('the cursor belongs to a listing with another as_of, filters or sort; start again without it', [{ field: 'cursor', message: 'does not match the filters' }]);
    state = { pit: decoded.pit, after: decoded.after as (string | number)[], delivered: decoded.delivered, position: decoded.position };
  } else state.pit = await openPit(opensearch, request.factsIndex);

  let rows;
  try {
    rows = await listRowsOf(docsAt(opensearch, state.pit, request.filter.accountId, request.at, request.cursor !== undefined), request.filter, request.sort);
  } catch (error) {
    if (request.cursor === undefined) await closePit(opensearch, state.pit);
    throw error;
  }
  const page = pageAfter(rows, state.after, request.size, request.sort.order);
  const delivered = state.delivered + page.length;
  const more = page.length === request.size && delivered < rows.length;
  if (!more && request.cursor === undefined) await closePit(opensearch, state.pit);
  return {
    rows: page.map((r) => r.row),
    total: rows.length,
    nextCursor: more ? encodeCursor({ pit: state.pit, after: page[page.length - 1]!.key, filter: hash, delivered, position: state.position }, request.secret) : null,
    position: state.position,
  };
}

/** How many users' documents the CSV reads back at a time. */

/**
 * Every listed user's document at T, in the listing's order, from one snapshot: the rows first
 * (small), then the documents back in chunks of users. The snapshot is freed when the iteration
 * ends, completes or is abandoned.
 */
export async function* scanDocsAsOf(opensearch: Client, factsIndex: string, at: number, filter: UsersFilter, sort: UsersSort): AsyncGenerator<UserDoc> {
  const pit = await openPit(opensearch, factsIndex);
  try {
    // The facts at T are read once; documents are derived from them again in the rows' order.
    const facts = await factsAt(translated<FactIntervalRecord>(factsValidAt(opensearch, { pit, keepAlive: PIT_KEEP_ALIVE }, filter.accountId, at), false));
    const rows = await listRowsOf(
      (async function* () {
        yield* docsOfFacts(facts);
      })(),
      filter,
      sort,
    );
    for (const { row } of rows) {
      const doc = deriveUser(facts, row.user_id);
      if (doc) yield doc;
    }
  } finally {
    await closePit(opensearch, pit);
  }
}
