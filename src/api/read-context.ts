/**
 * What every report read does first: resolve the live generation once, honour min_position, and
 * note the position the answer reflects (body field and X-Access-Index-Position header).
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Context } from 'hono';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import { indexBehind, publishedGuard } from '../integrity/checkpoints.ts';
import { unwrap } from '../redis/account-store.ts';
import { generationKeys } from '../redis/keys.ts';
import { type PositionSource, readAccountPositions, readAccountsPositions, readPublished } from '../redis/positions-reader.ts';
import { type PositionWaits, createPositionWaits, timeoutError } from './position-waits.ts';
import type { LiveGeneration } from './live-generation.ts';
import { type Positions, formatPositions, lagBehind, parsePositions, unknownTopics } from './position.ts';
import { badRequest } from './problem.ts';

/** One shared poll per API (its services) for every request waiting for min_position. */
const positionWaits = new WeakMap<ReportServices, PositionWaits>();

function positionWaitsOf(services: ReportServices): PositionWaits {
  let waits = positionWaits.get(services);
  if (!waits) {
    waits = createPositionWaits((space, asked) => readAccountsPositions(services.redis, space, asked), { now: services.now });
    positionWaits.set(services, waits);
  }
  return waits;
}

/** The header carrying the position of every answer. */
export const POSITION_HEADER = 'X-Access-Index-Position';

export interface ReportServices {
  redis: Redis;
  opensearch: Client;
  /** the JWT secret (also signs cursors) */
  secret: string;
  live: () => Promise<LiveGeneration>;
  /** topic names min_position may name; unchecked when absent */
  topics?: readonly string[] | undefined;
  now: () => number;
}

export interface ReadScope {
  live: LiveGeneration;
  positions: Positions;
  /** `positions` formatted for the answer */
  position: string;
  /** min_position as parsed (for checks against a listing snapshot) */
  wanted: Positions | undefined;
}

/** Parses min_position (shape already validated by the schema) into offsets; 400 on what the pattern cannot see. */
export function parseMinPosition(text: string | undefined, topics: readonly string[] | undefined): Positions | undefined {
  if (text === undefined) return undefined;
  const parsed = parsePositions(text);
  if (!parsed.ok) throw badRequest(`min_position ${parsed.message}`, [{ field: 'min_position', message: parsed.message }]);
  const unknown = topics ? unknownTopics(parsed.positions, topics) : [];
  if (unknown.length > 0) {
    const message = `names topics the index does not read: ${unknown.join(', ')} (it reads ${[...topics!].sort().join(', ')})`;
    throw badRequest(`min_position ${message}`, [{ field: 'min_position', message }]);
  }
  return parsed.positions;
}

/**
 * What an answer is read from: OpenSearch documents (searchable positions), or the counters in
 * Redis (applied positions: committed, possibly not yet searchable).
 */
export type ReadSource = PositionSource;

/** What a read of one account asks: the account, and min_position with how long to wait for it. */
export interface ReadQuery {
  accountId: string;
  min_position?: string | undefined;
  wait_ms: number;
}

/**
 * Resolves the generation and waits for min_position; sets the position header on `c`. The
 * positions are the account's: per partition the further of the generation's and the account's
 * own (decision 34).
 */
export async function beginRead(services: ReportServices, c: Context, query: ReadQuery, source: ReadSource = 'search', check = true): Promise<ReadScope> {
  const wanted = parseMinPosition(query.min_position, services.topics);
  const live = await services.live();
  let positions: Positions = await readAccountPositions(services.redis, live.space, query.accountId, source);
  if (wanted && lagBehind(wanted, positions).length > 0) {
    if (query.wait_ms <= 0) throw timeoutError(wanted, positions, query.wait_ms);
    positions = await positionWaitsOf(services).wait(live.space, query.accountId, source, wanted, query.wait_ms);
  }
  // Read after the positions: the sealed refresh is at or past the one that published them, and an
  // index restored to before it is refused, not read (decision 35).
  if (source === 'search' && check) await confirmIndex(services, live);
  const position = formatPositions(positions);
  c.header(POSITION_HEADER, position);
  return { live, positions, position, wanted };
}

/**
 * Checks an index (the users index unless another is named: `as_of` and the history read the
 * facts index) again once an answer has been read from it: an index closed and restored between
 * beginRead's check and the read (a stalled request) would otherwise be answered from.
 */
export async function confirmIndex(services: ReportServices, live: LiveGeneration, index = live.index, accountId?: string): Promise<{ refreshing: number; torn: number }> {
  const { positions, sealed, refreshing, torn } = await readPublished(services.redis, live.space, accountId);
  await requireCheckpoints(services.opensearch, index, publishedGuard(positions, sealed));
  return { refreshing, torn };
}

/**
 * The users index still holds every write that was published (its checkpoints are at or past the
 * partitions' positions and the sealed refresh): an index restored from an older snapshot is refused at once, not after the integrity
 * monitor's next round (docs/reliability.md). One small realtime read beside the answer's own.
 */
async function requireCheckpoints(opensearch: Client, index: string, positions: Positions): Promise<void> {
  const reason = await indexBehind(opensearch, index, positions);
  if (reason)
    throw new AppError('index_unavailable', `The report cannot be trusted now: ${reason}; the service rebuilds it`, {
      retriable: true,
      details: { fault: 'index_behind' },
    });
}

/** How long a read waits for a refresh under way to be published, and how often it reads again. */
const REFRESH_WAIT_MS = 2_000;
const EXACT_ATTEMPTS = 4;

/**
 * How long a read waits for its account to be shown whole (a refresh showed part of a big round of
 * it, decision 59): about the longest such round's write under a neighbour's churn, and the
 * refresh after it.
 */
const WHOLE_WAIT_MS = 5_000;

/** The answer a read gives when its account stays part-written in the index past WHOLE_WAIT_MS: a 503, retriable. */
function partWritten(accountId: string): AppError {
  return new AppError('index_unavailable', `The report cannot be trusted now: a large change of account ${accountId} is being written to the index; try again shortly`, {
    retriable: true,
    details: { fault: 'account_part_written' },
  });
}

/**
 * Reads from OpenSearch at an exact position: `read` runs after beginRead, and runs again when a
 * refresh of the publisher started or was under way meanwhile (the documents it saw could then be
 * those of a position not yet published). Refreshes show whole groups and are published right
 * after (decision 28), so a read that no refresh overlapped shows exactly its position. Past a
 * few attempts (refreshes back to back), the last read is answered: its position is then a lower
 * bound, as min_position promises. A refresh may show part of a big round (decision 59): a read
 * waits while its account is marked so, and a last read during which it was marked is refused.
 */
export async function readExactly<T>(services: ReportServices, c: Context, query: ReadQuery, read: (scope: ReadScope) => Promise<T>): Promise<{ scope: ReadScope; value: T }> {
  let last: { scope: ReadScope; value: T } | undefined;
  let whole = false;
  // One wait for the account to be whole, whatever the attempts (at least as long as min_position's).
  const wholeBy = services.now() + Math.max(WHOLE_WAIT_MS, query.wait_ms);
  for (let attempt = 0; attempt < EXACT_ATTEMPTS; attempt++) {
    const live = await services.live();
    const before = await settledRefresh(services.redis, generationKeys(live.space), query.accountId, services.now, wholeBy);
    // The index is checked once, after the read (which is what makes an answer safe): a restore
    // before the check is seen by it, one after it came too late to change what was read.
    const scope = await beginRead(services, c, query, 'search', false);
    const value = await read(scope);
    const { refreshing, torn } = await confirmIndex(services, scope.live, scope.live.index, query.accountId);
    last = { scope, value };
    const sameGeneration = scope.live.space.generation === live.space.generation;
    if (before.refreshing !== undefined && sameGeneration && refreshing === before.refreshing) return last;
    // No mark was set or lifted meanwhile: whatever refresh it saw showed the account whole. (A read
    // that met a rebuild's swap answers as before: from the new generation, a lower bound.)
    whole = !sameGeneration || torn === before.torn;
  }
  if (!whole) throw partWritten(query.accountId);
  return last!;
}

/**
 * Runs `open` (a read that fixes the view of the index it goes on with: an export's first page opens
 * its point in time) once its account is shown whole, and refuses it when a refresh may have shown
 * part of a round of the account meanwhile (decision 59).
 */
export async function openWhole<T>(services: ReportServices, live: LiveGeneration, accountId: string, open: () => Promise<T>): Promise<T> {
  const keys = generationKeys(live.space);
  const before = await settledRefresh(services.redis, keys, accountId, services.now, services.now() + WHOLE_WAIT_MS);
  const value = await open();
  if (Number((await services.redis.hget(keys.torn, accountId)) ?? 0) !== before.torn) throw partWritten(accountId);
  return value;
}

/**
 * The number of the last refresh once none is under way (undefined when one stays under way), and
 * the account's mark count once it is even (decision 59: a refresh showed no part of a round of it
 * still being written); a 503 when it stays odd.
 */
async function settledRefresh(
  redis: Redis,
  keys: { refreshing: string; refreshed: string; torn: string },
  accountId: string,
  now: () => number,
  wholeBy: number,
): Promise<{ refreshing: number | undefined; torn: number }> {
  const started = now();
  for (;;) {
    const [[refreshing, refreshed], torn] = unwrap(await redis.multi().mget(keys.refreshing, keys.refreshed).hget(keys.torn, accountId).exec()) as [
      (string | null)[],
      string | null,
    ];
    const count = Number(torn ?? 0);
    const settled = Number(refreshed ?? 0) >= Number(refreshing ?? 0);
    if (count % 2 === 0 && settled) return { refreshing: Number(refreshing ?? 0), torn: count };
    if (count % 2 === 0 && now() - started > REFRESH_WAIT_MS) return { refreshing: undefined, torn: count };
    if (count % 2 === 1 && now() > wholeBy) throw partWritten(accountId);
    await new Promise((r) => setTimeout(r, 10));
  }
}
