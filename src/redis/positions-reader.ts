/** The positions an answer reflects, as the projector published them in Redis (src/redis/keys.ts). */
import type { Redis } from 'ioredis';
import { exactPositions } from './counters-reader.ts';
import { APPLIED_PREFIX, type KeySpace, SEARCHABLE_PREFIX, accountKeys, generationKeys, offsetsIn } from './keys.ts';

/** What an answer reads: the index (searchable positions) or the counters (applied ones too). */
export type PositionSource = 'search' | 'counters';

/** The generation's published searchable positions (`topic:partition -> offset`). */
export async function readPositions(redis: Redis, space: KeySpace): Promise<Map<string, bigint>> {
  return offsetsIn(await redis.hgetall(generationKeys(space).positions));
}

/**
 * What was published, read together for a check of the users index against it (src/integrity/
 * checkpoints.ts publishedGuard): the partitions' searchable positions, the sealed refresh, and
 * the number of the last refresh begun (for an exact read, src/api/read-context.ts), with the
 * account's mark count (odd while a refresh may show part of a round of it, decision 59) when one
 * is named.
 */
export async function readPublished(
  redis: Redis,
  space: KeySpace,
  accountId?: string,
): Promise<{ positions: Map<string, bigint>; sealed: number; refreshing: number; torn: number }> {
  const keys = generationKeys(space);
  const pipeline = redis.pipeline().hgetall(keys.positions).get(keys.sealed).get(keys.refreshing);
  if (accountId !== undefined) pipeline.hget(keys.torn, accountId);
  const [positions, sealed, refreshing, torn] = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  return {
    positions: offsetsIn((positions ?? {}) as Record<string, string>),
    sealed: Number((sealed as string | null | undefined) ?? 0),
    refreshing: Number((refreshing as string | null | undefined) ?? 0),
    torn: Number((torn as string | null | undefined) ?? 0),
  };
}

/**
 * What one account's answers reflect, in one round trip: per partition, the further of the
 * generation's positions (searchable, or for `counters` the further of searchable and applied) and
 * the account's own (searchable `s:`, or applied `off:`), which run ahead of the generation's
 * while other accounts of the partition are unfinished (decision 34).
 */
export async function readAccountPositions(redis: Redis, space: KeySpace, accountId: string, source: PositionSource): Promise<Map<string, bigint>> {
  const [positions] = await readAccountsPositions(redis, space, [{ accountId, source }]);
  return positions!;
}

/**
 * readAccountPositions for several accounts of one generation, in one round trip: the
 * generation's hashes once, each account's own once (the API's waits for min_position poll this
 * way, src/api/position-waits.ts). In the order asked.
 */
export async function readAccountsPositions(redis: Redis, space: KeySpace, asked: readonly { accountId: string; source: PositionSource }[]): Promise<Map<string, bigint>[]> {
  const keys = generationKeys(space);
  const accounts = [...new Set(asked.map((a) => a.accountId))];
  // `applied` only for counters (a search reads one hash less); searchable implies applied (a
  // generation written before applied positions existed has only searchable ones)
  const counters = asked.some((a) => a.source === 'counters');
  const pipeline = redis.pipeline().hgetall(keys.positions);
  if (counters) pipeline.hgetall(keys.applied);
  for (const accountId of accounts) pipeline.hgetall(accountKeys(space, accountId).meta);
  const hashes = ((await pipeline.exec()) ?? []).map(([error, hash]) => {
    if (error) throw error;
    return hash as Record<string, string>;
  });
  const [positions = {}] = hashes;
  const applied = counters ? (hashes[1] ?? {}) : {};
  const metas = hashes.slice(counters ? 2 : 1);
  const meta = new Map(accounts.map((accountId, i) => [accountId, metas[i] ?? {}]));
  const searchable = offsetsIn(positions);
  const counted = exactPositions(searchable, offsetsIn(applied));
  return asked.map(({ accountId, source }) =>
    exactPositions(source === 'counters' ? counted : searchable, offsetsIn(meta.get(accountId)!, source === 'counters' ? APPLIED_PREFIX : SEARCHABLE_PREFIX)),
  );
}
