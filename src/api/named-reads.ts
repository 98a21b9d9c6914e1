/**
 * Reads that name entries (decision 64): the index stores no names, so the drill-down and the CSV
 * export take them from the account's raw facts in Redis, walked back to the answer's position
 * (src/redis/entity-names.ts). When that cannot be done (a value set after the position whose
 * interval already left the outbox, an entity created after it), the read is made again once the
 * published position covers that event, as min_position would; so an answer's names are exactly
 * those at its position.
 */
import type { Context } from 'hono';
import { type ReportFilter, type UserDoc, filterEntries } from '../../projections/index.ts';
import { AppError } from '../errors.ts';
import { type IndexedUser, UNNAMED, fromIndexedUser, namedEntries, namedIds } from '../opensearch/user-document.ts';
import { type EntityNamesReader, type NamesBlocked, entityNamesReader, namesBlocked } from '../redis/entity-names.ts';
import { formatPositions } from './position.ts';
import { type ReadQuery, type ReadScope, type ReportServices, beginRead, openWhole, parseMinPosition, readExactly } from './read-context.ts';
import { readUser } from './user-reader.ts';

/** Reads made again for names that could not be named at their position, at most. */
export const NAMES_ATTEMPTS = 3;
/** How long each of those waits for the position that covers the names, at least. */
export const NAMES_WAIT_MS = 5_000;

function namesError(accountId: string): AppError {
  return new AppError('index_unavailable', `The report cannot be named exactly now: the names of account ${accountId} are changing; try again shortly`, {
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
 * Runs `read` (a read at a scope that reads the names it shows) until its names resolve at the
 * scope's position; `discard` closes what a read made again leaves; a 503 `names_ahead` at last.
 */
async function readNamedExactly<T>(
  services: ReportServices,
  query: ReadQuery,
  read: (query: ReadQuery) => Promise<{ scope: ReadScope; value: T; blocked: NamesBlocked }>,
  discard: (value: T) => Promise<void> = async () => {},
): Promise<{ scope: ReadScope; value: T }> {
  let q = query;
  for (let attempt = 0; attempt < NAMES_ATTEMPTS; attempt++) {
    const { scope, value, blocked } = await read(q);
    if (!namesBlocked(blocked)) return { scope, value };
    await discard(value);
    q = blocked.ahead.size > 0 ? waitingFor(services, query, blocked.ahead) : q;
  }
  throw namesError(query.accountId);
}

/** The drill-down's document (null: no such user), its entries under `filter` named at the scope's position. */
export async function readNamedUser(
  services: ReportServices,
  c: Context,
  query: ReadQuery,
  userId: string,
  filter: ReportFilter,
): Promise<{ scope: ReadScope; doc: UserDoc | null }> {
  const { scope, value } = await readNamedExactly(services, query, async (q) => {
    // The names are read with the document, before the index is confirmed (a repair that drops the state meanwhile is seen).
    const { scope, value } = await readExactly(services, c, q, async (at): Promise<{ user: IndexedUser; reader: EntityNamesReader; which: string[] } | null> => {
      const user = await readUser(services.opensearch, at.live.index, q.accountId, userId);
      if (!user) return null;
      const reader = entityNamesReader(services.redis, at.live.space, q.accountId);
      // Only what the answer shows: the entries that count under its filters.
      return { user, reader, which: await reader.read(namedIds(filterEntries(namedEntries(user.entries, UNNAMED), filter))) };
    });
    const blocked = value ? await value.reader.resolve(value.which, scope.positions) : { ahead: new Map<string, bigint>(), missing: 0 };
    return { scope, value, blocked };
  });
  return { scope, doc: value ? fromIndexedUser(value.user, value.reader.names) : null };
}

/** The values of an async generator, mapped (closing the source when abandoned). */
async function* mapAsync<T, U>(source: AsyncGenerator<T>, fn: (value: T) => Promise<U>): AsyncGenerator<U> {
  try {
    for await (const value of source) yield await fn(value);
  } finally {
    await source.return(undefined);
  }
}

/**
 * An export's documents, named as they were at its position: the scan `open` makes is opened (its
 * first page read, the account shown whole: openWhole), then every inbox and queue the account's
 * entries show is read at once and named at the scan's position, waiting and opening the scan again
 * while that cannot be done. An entity the snapshot shows that the counters no longer did is read
 * when met; if it cannot be named at the position then, the export fails (a broken stream).
 */
export async function openNamedScan(
  services: ReportServices,
  c: Context,
  query: ReadQuery,
  open: (scope: ReadScope) => AsyncGenerator<IndexedUser>,
): Promise<{ scope: ReadScope; docs: AsyncGenerator<UserDoc>; first: IteratorResult<UserDoc, undefined> }> {
  const { scope, value } = await readNamedExactly(
    services,
    query,
    async (q) => {
      const scope = await beginRead(services, c, q, 'search');
      const users = open(scope);
      try {
        const first = await openWhole(services, scope.live, q.accountId, () => users.next());
        const reader = entityNamesReader(services.redis, scope.live.space, q.accountId);
        const blocked = await reader.resolve(await reader.readShown(), scope.positions);
        return { scope, value: { users, first, reader }, blocked };
      } catch (error) {
        await users.return(undefined);
        throw error;
      }
    },
    async ({ users }) => void (await users.return(undefined)),
  );
  const { reader } = value;
  const named = async (u: IndexedUser): Promise<UserDoc> => {
    const blocked = await reader.resolve(await reader.read(namedIds(u.entries)), scope.positions);
    if (namesBlocked(blocked)) throw namesError(query.accountId);
    return fromIndexedUser(u, reader.names);
  };
  const first: IteratorResult<UserDoc, undefined> = value.first.done ? { done: true, value: undefined } : { done: false, value: await named(value.first.value) };
  return { scope, docs: mapAsync(value.users, named), first };
}
