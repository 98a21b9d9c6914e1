/**
 * Which generation the API reads: the Redis pointer `<namespace>:live`, read per request and cached
 * for at most a second. Each request resolves it once and reads that generation's index and keys
 * only, so a rebuild's swap moves readers from one complete generation to the next, never a mix.
 */
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import { factsIndex, usersIndex } from '../opensearch/indices.ts';
import { type KeySpace, liveGenerationKey } from '../redis/keys.ts';

export interface LiveGeneration {
  space: KeySpace;
  /** the generation's users index (concrete, not the alias) */
  index: string;
  /** the generation's facts index (raw fact intervals, for as_of and /history) */
  facts: string;
}

export interface LiveGenerationOptions {
  redis: Redis;
  namespace: string;
  now?: () => number;
  /** how long a resolved generation is reused; at most 1000 ms */
  ttlMs?: number;
}

/** A resolver of the live generation (cached, and one Redis read at a time). */
export function createLiveGenerationResolver(options: LiveGenerationOptions): () => Promise<LiveGeneration> {
  const now = options.now ?? Date.now;
  const ttlMs = Math.min(options.ttlMs ?? 1000, 1000);
  let cached: { at: number; value: LiveGeneration } | undefined;
  let inflight: Promise<LiveGeneration> | undefined;

  async function load(): Promise<LiveGeneration> {
    const generation = await options.redis.get(liveGenerationKey(options.namespace));
    if (!generation) throw new AppError('not_ready', 'the index has no live generation yet: has the projector ever started?', { retriable: true });
    const value = { space: { namespace: options.namespace, generation }, index: usersIndex(options.namespace, generation), facts: factsIndex(options.namespace, generation) };
    cached = { at: now(), value };
    return value;
  }

  return () => {
    if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.value);
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}
