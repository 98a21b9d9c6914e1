/** The positions an answer reflects, as the projector published them in Redis (src/redis/keys.ts). */
import type { Redis } from 'ioredis';
import { type KeySpace, accountKeys, accountSearchable, generationKeys } from './keys.ts';

/** The generation's published searchable positions (`topic:partition -> offset`). */
export async function readPositions(redis: Redis, space: KeySpace): Promise<Map<string, bigint>> {
  const raw = await redis.hgetall(generationKeys(space).positions);
  return new Map(Object.entries(raw).map(([field, offset]) => [field, BigInt(offset)]));
}

function raiseInto(out: Map<string, bigint>, hash: Record<string, string>, prefix = ''): void {
  for (const [key, offset] of Object.entries(hash)) {
    if (!key.startsWith(prefix)) continue;
    const field = key.slice(prefix.length);
    const value = BigInt(offset);
    const cur = out.get(field);
    if (cur === undefined || cur < value) out.set(field, value);
  }
}

/**
 * What one account's answers reflect, in one round trip: the generation's positions (searchable,
 * or for `counters` the further of searchable and applied) and, per partition, the further of those
 * and the account's own (searchable `s:`, or applied `off:`), which run ahead of the generation's
 * while other accounts of the partition are unfinished (decision 34).
 */
export async function readAccountPositions(
  redis: Redis,
  space: KeySpace,
  accountId: string,
  source: 'search' | 'counters',
): Promise<{ generation: Map<string, bigint>; account: Map<string, bigint> }> {
  const keys = generationKeys(space);
  const pipeline = redis.pipeline().hgetall(keys.positions);
  if (source === 'counters') pipeline.hgetall(keys.applied);
  pipeline.hgetall(accountKeys(space, accountId).meta);
  const hashes = ((await pipeline.exec()) ?? []).map(([error, hash]) => {
    if (error) throw error;
    return hash as Record<string, string>;
  });
  const meta = hashes.pop() ?? {};
  const generation = new Map<string, bigint>();
  for (const hash of hashes) raiseInto(generation, hash);
  const account = new Map(generation);
  if (source === 'counters') raiseInto(account, meta, 'off:');
  else for (const [field, offset] of accountSearchable(meta)) if ((account.get(field) ?? -1n) < offset) account.set(field, offset);
  return { generation, account };
}
