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
 * Cost: a whole-account answer reads every fact of the account valid at T and derives every
 * user's document then, once per state of the account (its version) and instant: the summary, the
 * listing's pages, the CSV and the views at one T share that read while it is kept (decision 55).
 * A drill-down reads only what its user reaches. Memory is the account's documents at T (about
 * what the projector holds for it) per state kept or being read, plus, for listings, one small row
 * per listed user.
 */
import { type AccountFacts, type ChannelScope, type Summary, type UserDoc, contributions, summaryFromCounters } from '../../projections/index.ts';
import { parseEventTime } from '../../schemas/fields.ts';
import { type IntervalSources, docsFromFacts, docsOfFacts, factsAt, paced, validAtVersion } from '../audit/facts-at.ts';
import { factsBySubject, userFacts } from '../audit/user-facts.ts';
import { AppError } from '../errors.ts';
import type { AccountHead, FactIntervalRecord } from '../records/fact-intervals.ts';
import { listRowsOf, pageAfter } from './as-of-listing.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { badRequest } from './problem.ts';
import type { UsersFilter, UsersSort } from './users-query.ts';
import { type PageRequest, type PageResult, listingHash, translate } from './users-search.ts';
import { createSlots } from './slots.ts';
import { createStateCache } from './state-cache.ts';

/**
 * Reads of a whole account at T (for the summary, a listing page, the CSV and the queues and inboxes
 * views), and CSV streams at T, run at most this many at once; the others wait their turn (decision
 * 54). Each holds the account's facts and documents at T: on the 50,000-agent account eight at once
 * took the API to 1.8 GiB resident, and since they share one thread, each of them answered only when
 * all did (about 41 s for eight of 4 s). A drill-down at T reads only its user's reach and does not wait.
 */
export const AS_OF_AT_ONCE = 2;
const wholeAccount = createSlots(AS_OF_AT_ONCE);

/** Epoch milliseconds of a validated `as_of` (finer digits than milliseconds are dropped, as for event times). */
export function asOfMs(text: string): number {
  return parseEventTime(text);
}

/**
 * An account at T, as of one state (decision 55): every user's document then, in user-id order, the
 * counters they contribute, and the queues and inboxes the facts knew then (names, channels). What
 * the summary, a listing page, the CSV and the queues and inboxes views at T all read.
 */
export interface AccountAt {
  docs: UserDoc[];
  counts: Map<string, number>;
  queues: AccountFacts['queues'];
  inboxes: AccountFacts['inboxes'];
}

/** The state an answer at T reads: a version of the account within an epoch of the generation. */
export interface StateName {
  version: number;
  epoch: number;
}

/**
 * Accounts at T kept after they were read (decision 55): an audit page asks the summary, the
 * listing and the views at one T, and a listing's later pages ask again at the version its first
 * page read. At most this many, each for AS_OF_STATE_TTL_MS after its last use; on the 50,000-agent
 * account one holds about as much as the projector holds for it.
 */
export const AS_OF_STATES = 2;
export const AS_OF_STATE_TTL_MS = 60_000;
const states = createStateCache<AccountAt>({ max: AS_OF_STATES, ttlMs: AS_OF_STATE_TTL_MS });

/**
 * The account at T as of `state`, read once however many answers ask for that state and instant
 * together or within the cache's time (the facts index names the generation). A read finds the
 * account at `state.version` or later in the same epoch, and cuts the index's records at that
 * version; otherwise `mismatch()` is thrown (a store went back, or a repair began a new epoch).
 */
async function accountAt(sources: IntervalSources, accountId: string, at: number, state: StateName, mismatch: () => Error): Promise<AccountAt> {
  const key = [sources.index, accountId, state.epoch, state.version, at].join('\0');
  return states.get(key, () =>
    wholeAccount.run(async () => {
      let records: FactIntervalRecord[];
      try {
        const snapshot = await sources.account(accountId);
        if (snapshot.version < state.version || (snapshot.epoch ?? 0) !== state.epoch) throw mismatch();
        records = await validAtVersion(sources, accountId, at, snapshot, state.version);
      } catch (error) {
        throw translate(error, false);
      }
      const facts = factsAt(records);
      const docs: UserDoc[] = [];
      const counts = new Map<string, number>();
      // Derived in turns of the event loop: a big account's documents take seconds (decision 51).
      for await (const doc of paced(docsOfFacts(facts))) {
        docs.push(doc);
        for (const key of contributions(doc)) counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return { docs, counts, queues: facts.queues, inboxes: facts.inboxes };
    }),
  );
}

/** The account's current version, epoch and applied offsets, store failures as the API's errors. */
async function headOf(sources: IntervalSources, accountId: string): Promise<AccountHead> {
  try {
    return await sources.head(accountId);
  } catch (error) {
    throw translate(error, false);
  }
}

/**
 * The account at T as of its current state, with that state's applied offsets (the answer's
 * position): the state is named by a small read first, so an answer whose state was read already
 * reads nothing more.
 */
export async function currentAccountAt(sources: IntervalSources, accountId: string, at: number): Promise<AsOfAnswer<AccountAt> & { state: StateName }> {
  const head = await headOf(sources, accountId);
  const changed = () =>
    new AppError('redis_unavailable', 'the account’s state went back or a repair began while it was read; try again', { retriable: true, details: { fault: 'state_changed' } });
  return { value: await accountAt(sources, accountId, at, head, changed), offsets: head.offsets, state: { version: head.version, epoch: head.epoch } };
}

/** An answer at T with the account's applied offsets of the state it was read from (its position). */
export interface AsOfAnswer<T> {
  value: T;
  offsets: Map<string, bigint>;
}

/** The counters of `scope` (the keys `<kind>|<scope>|…`) among an account's counters at T. */
function inScope(counts: ReadonlyMap<string, number>, scope: ChannelScope): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of counts) if (key.split('|')[1] === scope) out.set(key, n);
  return out;
}

/** The summary of `scope` at T: the sum of each document's counter contributions, as the counters hold them live. */
export async function summaryAsOf(sources: IntervalSources, accountId: string, at: number, scope: ChannelScope): Promise<AsOfAnswer<Summary>> {
  const { value: account, offsets } = await currentAccountAt(sources, accountId, at);
  const { users, queues, inboxes } = summaryFromCounters(inScope(account.counts, scope), scope);
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
 * A page of rows at T. Every page reads the account at T as of the version of the first page (kept
 * in the cursor; read once and kept a while: decision 55), so every page of one listing shows the
 * same state, then continues after the previous page's last sort key.
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

  let account: AccountAt;
  let named: StateName;
  let position: string;
  if (state.version !== undefined && state.epoch !== undefined) {
    // A later page: the state the first page read, wherever the account is now.
    named = { version: state.version, epoch: state.epoch };
    position = state.position ?? '';
    const expired = () =>
      badRequest('the account’s state went back since this listing began (a store was restored); start again without the cursor', [{ field: 'cursor', message: 'expired' }]);
    // Kept or not, the state must still be one the stores can give: a rollback repair (a new
    // epoch) or a Redis gone back past it ends the listing, as when it is read again.
    const head = await headOf(request.sources, accountId);
    if (head.epoch !== named.epoch || head.version < named.version) throw expired();
    account = await accountAt(request.sources, accountId, request.at, named, expired);
  } else {
    const current = await currentAccountAt(request.sources, accountId, request.at);
    ({ value: account, state: named } = current);
    position = request.positionOf(current.offsets);
  }
  const rows = await listRowsOf(paced(account.docs), request.filter, request.sort);
  const { version, epoch } = named;
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
 * Every listed user's document at T, in the listing's order, from one state: the rows first
 * (small), then each listed user's document. `onState` learns the account's applied offsets of the
 * state read, before the first document.
 */
export async function* scanDocsAsOf(
  sources: IntervalSources,
  at: number,
  filter: UsersFilter,
  sort: UsersSort,
  onState?: (offsets: Map<string, bigint>) => void,
): AsyncGenerator<UserDoc> {
  const { value: account, offsets } = await currentAccountAt(sources, filter.accountId, at);
  onState?.(offsets);
  // The stream keeps the account's documents alive however long its reader takes (the cache may
  // have let them go): it holds a slot until the last document is taken (or the stream is given up).
  const release = await wholeAccount.acquire();
  try {
    const byUser = new Map(account.docs.map((doc) => [doc.user_id, doc]));
    const rows = await listRowsOf(paced(account.docs), filter, sort);
    for (const { row } of rows) {
      const doc = byUser.get(row.user_id);
      if (doc) yield doc;
    }
  } finally {
    release();
  }
}
