/**
 * Answers `as_of` an instant T, from the fact intervals of the live generation (not a replay).
 *
 * The raw fact intervals valid at T (`from_ms <= T < to_ms`) of the account are read (the open
 * ones and the closed ones not yet refreshed from Redis, then the closed ones from the index, cut at
 * the account's version: src/audit/facts-at.ts, decision 47) into the account's facts at T, the
 * core derives the documents at T, and everything else is the live report's own logic: the
 * summary from the documents' counter contributions, rows and drill-downs through the same
 * filters, the listing's search and order computed in memory (as-of-listing.ts), paged with signed
 * cursors bound to T, the filters, the sort and the account's version (every page shows that state).
 *
 * Cost: each answer reads every fact of the account valid at T, but a drill-down, which reads only
 * what its user reaches. Memory is the account's facts at T (what the projector holds for it) plus,
 * for listings, one small row per listed user.
 */
import { type ChannelScope, type Summary, type UserDoc, contributions, deriveUser, summaryFromCounters } from '../../projections/index.ts';
import { parseEventTime } from '../../schemas/fields.ts';
import { type IntervalSources, type StateAt, docsFromFacts, docsOfFacts, factsAt, factsValidAt, paced, validAtVersion } from '../audit/facts-at.ts';
import { factsBySubject, userFacts } from '../audit/user-facts.ts';
import type { FactIntervalRecord } from '../records/fact-intervals.ts';
import { listRowsOf, pageAfter } from './as-of-listing.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { badRequest } from './problem.ts';
import type { UsersFilter, UsersSort } from './users-query.ts';
import { type PageRequest, type PageResult, listingHash, translate } from './users-search.ts';
import { createSlots } from './slots.ts';

/**
 * Answers at T that read and derive the whole account (the summary, a listing page, the CSV and the
 * queues and inboxes views) run at most this many at once; the others wait their turn (decision 54).
 * Each holds the account's facts and documents at T: on the 50,000-agent account eight at once took
 * the API to 1.8 GiB resident, and since they share one thread, each of them answered only when all
 * did (about 41 s for eight of 4 s). A drill-down at T reads only its user's reach and does not wait.
 */
export const AS_OF_AT_ONCE = 2;
const wholeAccount = createSlots(AS_OF_AT_ONCE);

/** Runs a whole-account answer at T in one of the AS_OF_AT_ONCE slots. */
export function inAsOfSlot<T>(fn: () => Promise<T>): Promise<T> {
  return wholeAccount.run(fn);
}

/** Epoch milliseconds of a validated `as_of` (finer digits than milliseconds are dropped, as for event times). */
export function asOfMs(text: string): number {
  return parseEventTime(text);
}

/** The intervals valid at T and the state they were read at, OpenSearch failures rethrown as the API's errors. */
export async function stateAt(sources: IntervalSources, accountId: string, at: number): Promise<StateAt> {
  try {
    return await factsValidAt(sources, accountId, at);
  } catch (error) {
    throw translate(error, false);
  }
}

/** An answer at T with the account's applied offsets of the state it was read from (its position). */
export interface AsOfAnswer<T> {
  value: T;
  offsets: Map<string, bigint>;
}

/**
 * The counters the documents at T contribute (countersFromDocs, or only the keys `keep` accepts),
 * derived in turns of the event loop: a big account's documents take seconds (decision 51).
 */
export async function countersAsOf(docs: Iterable<UserDoc>, keep: (key: string) => boolean = () => true): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const doc of paced(docs)) for (const key of contributions(doc)) if (keep(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** The summary of `scope` at T: the sum of each document's counter contributions, as the counters hold them live. */
export async function summaryAsOf(sources: IntervalSources, accountId: string, at: number, scope: ChannelScope): Promise<AsOfAnswer<Summary>> {
  const { counts, offsets } = await inAsOfSlot(async () => {
    const { records, offsets } = await stateAt(sources, accountId, at);
    return { counts: await countersAsOf(docsFromFacts(records), (key) => key.split('|')[1] === scope), offsets };
  });
  const { users, queues, inboxes } = summaryFromCounters(counts, scope);
  // The live summary's field order, so both answers read alike.
  const value = {
    users: { total: users.total, inbox: users.inbox, automatic_call_recording: users.automatic_call_recording, ad_hoc_call_recording: users.ad_hoc_call_recording },
    queues: { inbox: queues.inbox, automatic_call_recording: queues.automatic_call_recording, ad_hoc_call_recording: queues.ad_hoc_call_recording },
    inboxes,
  };
  return { value, offsets };
}

/**
 * One user's document at T (null when the user did not exist then), from the intervals of what the
 * user reaches (their own keys, then their roles, queues and inboxes: `userFacts`, as their history
 * reads them), not the whole account's: on the 50,000-agent account that is a few hundred intervals
 * instead of every one valid at T (decision 52).
 */
export async function userAsOf(sources: IntervalSources, accountId: string, userId: string, at: number): Promise<AsOfAnswer<UserDoc | null>> {
  let offsets = new Map<string, bigint>();
  let records: FactIntervalRecord[];
  try {
    records = await userFacts(
      userId,
      factsBySubject(sources, accountId, (state) => (offsets = state.offsets)),
    );
  } catch (error) {
    throw translate(error, false);
  }
  const valid = records.filter((r) => r.from_ms <= at && at < r.to_ms);
  for (const doc of docsFromFacts(valid, [userId])) return { value: doc, offsets };
  return { value: null, offsets };
}

/** A page request of the listing at T: like a live one, but read from the fact intervals at `at`. */
export interface AsOfPageRequest extends Omit<PageRequest, 'index' | 'position'> {
  /** the live generation's intervals, and the generation's name (a cursor is bound to it) */
  sources: IntervalSources;
  generation: string;
  at: number;
  /** the first page's position, from the account's applied offsets in the state read (later pages keep it) */
  positionOf: (offsets: Map<string, bigint>) => string;
}

export type AsOfPageResult = PageResult;

/** The hash binding an as_of cursor to its instant, account, filters and sort. */
export function asOfListingHash(at: number, filter: UsersFilter, sort: UsersSort): string {
  return listingHash(filter, sort, { as_of: at });
}

/**
 * What an as_of cursor's snapshot field holds: the generation, its epoch and the account's version
 * of the listing (`as_of:<generation>:<epoch>:<version>`). A version names a state only within an
 * epoch: after a rollback repair (which raises the epoch) the replay counts the versions again.
 */
const SNAPSHOT_PREFIX = 'as_of:';

function parseSnapshot(text: string): { generation: string; epoch: number; version: number } | undefined {
  const parts = text.startsWith(SNAPSHOT_PREFIX) ? text.slice(SNAPSHOT_PREFIX.length).split(':') : [];
  if (parts.length !== 3) return undefined;
  const [generation, epoch, version] = [parts[0]!, Number(parts[1]), Number(parts[2])];
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
  return whole(epoch) && whole(version) ? { generation, epoch, version } : undefined;
}

/**
 * A page of rows at T. Every page reads the intervals again, cut at the account's version of the
 * first page (kept in the cursor), so every page of one listing shows the same state, then
 * continues after the previous page's last sort key.
 */
export async function usersPageAsOf(request: AsOfPageRequest): Promise<AsOfPageResult> {
  const hash = asOfListingHash(request.at, request.filter, request.sort);
  const accountId = request.filter.accountId;
  let state = {
    epoch: undefined as number | undefined,
    version: undefined as number | undefined,
    after: undefined as (string | number)[] | undefined,
    delivered: 0,
    position: undefined as string | undefined,
  };
  if (request.cursor !== undefined) {
    const decoded = decodeCursor(request.cursor, request.secret);
    const snapshot = decoded ? parseSnapshot(decoded.pit) : undefined;
    if (!decoded || !snapshot) throw badRequest('the cursor is not one this API gave out', [{ field: 'cursor', message: 'not a valid cursor' }]);
    if (decoded.filter !== hash)
      throw badRequest('the cursor belongs to a listing with another as_of, filters or sort; start again without it', [{ field: 'cursor', message: 'does not match the filters' }]);
    if (snapshot.generation !== request.generation)
      throw badRequest('the index was rebuilt since this listing began; start again without the cursor', [{ field: 'cursor', message: 'expired' }]);
    state = { epoch: snapshot.epoch, version: snapshot.version, after: decoded.after as (string | number)[], delivered: decoded.delivered, position: decoded.position };
  }

  const { rows, version, epoch, position } = await inAsOfSlot(async () => {
    let records: FactIntervalRecord[];
    let version: number;
    let epoch: number;
    let position: string;
    try {
      const snapshot = await request.sources.account(accountId);
      version = state.version ?? snapshot.version;
      epoch = snapshot.epoch ?? 0;
      if (snapshot.version < version || (state.epoch !== undefined && state.epoch !== epoch))
        throw badRequest('the account’s state went back since this listing began (a store was restored); start again without the cursor', [
          { field: 'cursor', message: 'expired' },
        ]);
      records = await validAtVersion(request.sources, accountId, request.at, snapshot, version);
      position = state.position ?? request.positionOf(snapshot.offsets);
    } catch (error) {
      throw translate(error, false);
    }
    return { rows: await listRowsOf(paced(docsFromFacts(records)), request.filter, request.sort), version, epoch, position };
  });
  const page = pageAfter(rows, state.after, request.size, request.sort.order);
  const delivered = state.delivered + page.length;
  const more = page.length === request.size && delivered < rows.length;
  const pit = `${SNAPSHOT_PREFIX}${request.generation}:${epoch}:${version}`;
  return {
    rows: page.map((r) => r.row),
    total: rows.length,
    nextCursor: more ? encodeCursor({ pit, after: page[page.length - 1]!.key, filter: hash, delivered, position }, request.secret) : null,
    position,
  };
}

/**
 * Every listed user's document at T, in the listing's order, from one read: the rows first
 * (small), then each listed user's document derived again from the facts at T. `onState` learns
 * the account's applied offsets of the state read, before the first document.
 */
export async function* scanDocsAsOf(
  sources: IntervalSources,
  at: number,
  filter: UsersFilter,
  sort: UsersSort,
  onState?: (offsets: Map<string, bigint>) => void,
): AsyncGenerator<UserDoc> {
  // The facts at T are read once; documents are derived from them again in the rows' order. The
  // slot is held until the last document is taken (or the stream is given up).
  const release = await wholeAccount.acquire();
  try {
    const { records, offsets } = await stateAt(sources, filter.accountId, at);
    onState?.(offsets);
    const facts = factsAt(records);
    const rows = await listRowsOf(paced(docsOfFacts(facts)), filter, sort);
    for (const { row } of rows) {
      const doc = deriveUser(facts, row.user_id);
      if (doc) yield doc;
    }
  } finally {
    release();
  }
}
