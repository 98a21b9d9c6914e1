/** The positions an answer reflects, as the projector published them in Redis (src/redis/keys.ts). */
import type { Redis } from 'ioredis';
import { type KeySpace, generationKeys } from './keys.ts';

/** The generation's published searchable positions (`topic:partition -> offset`). */
export async function readPositions(redis: Redis, space: KeySpace): Promise<Map<string, bigint>> {
  const raw = await redis.hgetall(generationKeys(space).positions);
  return new Map(Object.entries(raw).map(([field, offset]) => [field, BigInt(offset)]));
}

/**
 * What the Redis-backed views (summary, queues) reflect: per partition, the applied position
 * (committed to facts and counters) or the searchable one, whichever is further (searchable implies
 * applied; a generation written before applied positions existed has only searchable ones).
 */
export async function readAppliedPositions(redis: Redis, space: KeySpace): Promise<Map<string, bigint>> {
  const keys = generationKeys(space);
  const results = (await redis.pipeline().hgetall(keys.positions).hgetall(keys.applied).exec()) ?? [];
  const out = new Map<string, bigint>();
  for (const [error, hash] of results) {
    if (error) throw error;
    for (const [field, offset] of Object.entries(hash as Record<string, string>)) {
      const value = BigInt(offset);
      const cur = out.get(field);
      if (cur === undefined || cur < value) out.set(field, value);
    }
  }
  return out;
}
