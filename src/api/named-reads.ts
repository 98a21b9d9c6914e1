/**
 * Reads that name entries (decision 64): the index stores no names, so the drill-down and the CSV
 * export take them from the account's raw facts in Redis, which may be ahead of the index's
 * published position (a rename committed, its refresh not published yet). A name set after the
 * answer's position is not the name at it: the read is made again once the published position
 * covers that event (as min_position would), so an answer's names are exactly those at its position.
 */
import type { Context } from 'hono';
import type { UserDoc } from '../../projections/index.ts';
import { AppError } from '../errors.ts';
import { type IndexedUser, fromIndexedUser, namedIds } from '../opensearch/user-document.ts';
import { type NamesAt, namesAhead, readAllNamesAt, readNamesAt } from '../redis/entity-names.ts';
import { formatPositions } from './position.ts';
import { type ReadQuery, type ReadScope, type ReportServices, beginRead, openWhole, parseMinPosition, readExactly } from './read-context.ts';
import { readUser } from './user-reader.ts';

/** Reads made again for names set after their position, at most. */
export const NAMES_ATTEMPTS = 3;
/** How long each of those waits for the position that covers the names, at least. */
export const NAMES_WAIT_MS = 5_000;

function namesAheadError(accountId: string): AppError {
  return new AppError('index_unavailable', `The report cannot be named exactly now: account ${accountId} keeps renaming what it shows; try again shortly`, {
    retriable: true,
    details: { fault: 'names_ahead' },
  });
}

/** The query that waits, as well as for its own min_position, for the positions in `ahead`. */
function waitingFor(services: ReportServices, query: ReadQuery, ahead: ReadonlyMap<string, bigint>): ReadQuery {
  const wanted = new Map(parseMinPosition(query.min_position, services.topics) ?? []);
  for (const [field, offset] of ahead) if ((wanted.get(field) ?? -1n) < offset) wanted.set(field, offset);
  return { ...query, min_position: formatPositions(wanted), wait_ms: Math.max(query.wait_ms, NAMES_WAIT_MS) };
}

/**
 * Runs `read` (a read at a scope, then its names) until the names are those at the scope's
 * position; a 503 `names_ahead` when they keep moving.
 */
export async function readNamedExactly<T>(
  services: ReportServices,
  query: ReadQuery,
  read: (query: ReadQuery) => Promise<{ scope: ReadScope; value: T; names?: NamesAt }>,
  discard: (value: T) => Promise<void> = async () => {},
): Promise<{ scope: ReadScope; value: T; names?: NamesAt }> {
  let q = query;
  for (let attempt = 0; attempt < NAMES_ATTEMPTS; attempt++) {
    const answer = await read(q);
    const ahead = answer.names ? namesAhead(answer.names, answer.scope.positions) : new Map<string, bigint>();
    if (ahead.size === 0) return answer;
    await discard(answer.value);
    q = waitingFor(services, query, ahead);
  }
  throw namesAheadError(query.accountId);
}

/** The values of an async generator, mapped (closing the source when abandoned). */
export async function* mapAsync<T, U>(source: AsyncGenerator<T>, fn: (value: T) => U): AsyncGenerator<U> {
  try {
    for await (const value of source) yield fn(value);
  } finally {
    await source.return(undefined);
  }
}

/**
 * An export's documents, named as they were at its position: the scan `open` makes is opened (its
 * first page read, the account shown whole: openWhole), then every inbox and queue name of the
 * account is read once; when one was set after the scan's position, the scan is closed and opened
 * again at a position that covers it.
 */
export async function openNamedScan(
  services: ReportServices,
  c: Context,
  query: ReadQuery,
  open: (scope: ReadScope) => AsyncGenerator<IndexedUser>,
): Promise<{ scope: ReadScope; docs: AsyncGenerator<UserDoc>; first: IteratorResult<UserDoc, undefined> }> {
  const { scope, value, names } = await readNamedExactly(
    services,
    query,
    async (q) => {
      const scope = await beginRead(services, c, q, 'search');
      const users = open(scope);
      const first = await openWhole(services, scope.live, q.accountId, () => users.next());
      try {
        return { scope, value: { users, first }, names: await readAllNamesAt(services.redis, scope.live.space, q.accountId) };
      } catch (error) {
        await users.return(undefined);
        throw error;
      }
    },
    async ({ users }) => void (await users.return(undefined)),
  );
  const named = (u: IndexedUser) => fromIndexedUser(u, names!.names);
  const first: IteratorResult<UserDoc, undefined> = value.first.done ? { done: true, value: undefined } : { done: false, value: named(value.first.value) };
  return { scope, docs: mapAsync(value.users, named), first };
}

/** The drill-down's document (null: no such user) with its names, and the scope it was read at. */
export async function readNamedUser(services: ReportServices, c: Context, query: ReadQuery, userId: string): Promise<{ scope: ReadScope; doc: UserDoc | null }> {
  const { scope, value, names } = await readNamedExactly(services, query, async (q) => {
    const { scope, value } = await readExactly(services, c, q, (read) => readUser(services.opensearch, read.live.index, q.accountId, userId));
    return { scope, value, ...(value ? { names: await readNamesAt(services.redis, scope.live.space, q.accountId, namedIds(value.entries)) } : {}) };
  });
  return { scope, doc: value && names ? fromIndexedUser(value, names.names) : null };
}
