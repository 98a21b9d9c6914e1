/**
 * Freshness: the positions an answer reflects, and waiting for `min_position` so a client that has
 * just published a change reads its own write (contract section 4).
 */
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import { type KeySpace, generationKeys } from '../redis/keys.ts';
import { type Positions, formatPositions, lagBehind } from './position.ts';

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

export interface AwaitPositionsOptions {
  read: () => Promise<Positions>;
  /** the offsets the answer must reflect; nothing to wait for when absent or empty */
  wanted: Positions | undefined;
  waitMs: number;
  now?: () => number;
  pollMs?: number;
}

/**
 * The current positions once they reach `wanted`, polling every ~25 ms. Past `waitMs`, throws
 * AppError 'position_timeout' carrying the lag per partition (wanted versus have).
 */
export async function awaitPositions(options: AwaitPositionsOptions): Promise<Positions> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.waitMs;
  for (;;) {
    const have = await options.read();
    if (!options.wanted || options.wanted.size === 0) return have;
    const lag = lagBehind(options.wanted, have);
    if (lag.length === 0) return have;
    if (now() >= deadline) {
      const detail = lag.map((l) => `${l.topic}:${l.partition} wanted ${l.wanted}, have ${l.have ?? 'nothing'}`).join('; ');
      throw new AppError('position_timeout', `the index did not reach min_position within ${options.waitMs} ms: ${detail}`, {
        retriable: true,
        details: { lag, position: formatPositions(have) },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 25, Math.max(1, deadline - now()))));
  }
}
