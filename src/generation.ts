/**
 * Generations: the live index and Redis keyspace are one generation (`g1`, `g2`, …) named by the
 * Redis key `<namespace>:live`. A rebuild fills the next generation and swaps the pointer, so the
 * API, which reads the pointer, moves from one complete generation to the other in one step.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import { ensureIndex, ensureTemplates, factsAlias, factsIndex, historyAlias, historyIndex, pointAlias, usersAlias, usersIndex } from './opensearch/indices.ts';
import { liveGenerationKey } from './redis/keys.ts';

export const FIRST_GENERATION = 'g1';

/** The live generation, creating the first one on a fresh namespace. */
export async function liveGeneration(redis: Redis, namespace: string): Promise<string> {
  await redis.set(liveGenerationKey(namespace), FIRST_GENERATION, 'NX');
  return (await redis.get(liveGenerationKey(namespace))) ?? FIRST_GENERATION;
}

export interface GenerationIndices {
  users: string;
  history: string;
  facts: string;
}

/** Makes sure the templates, the generation's indices and (for the live one) the aliases exist. */
export async function ensureGenerationLayout(opensearch: Client, namespace: string, generation: string, options: { live: boolean; shards?: number; replicas?: number }): Promise<GenerationIndices> {
  await ensureTemplates(opensearch, { namespace, ...(options.shards ? { shards: options.shards } : {}), ...(options.replicas !== undefined ? { replicas: options.replicas } : {}) });
  const indices = { users: usersIndex(namespace, generation), history: historyIndex(namespace, generation), facts: factsIndex(namespace, generation) };
  for (const [alias, index] of [
    [usersAlias(namespace), indices.users],
    [historyAlias(namespace), indices.history],
    [factsAlias(namespace), indices.facts],
  ] as const) {
    await ensureIndex(opensearch, index);
    if (!options.live) continue;
    const current = await opensearch.indices.getAlias({ name: alias }).catch(() => undefined);
    if (!current || !Object.keys(current.body ?? {}).includes(index)) await pointAlias(opensearch, alias, index);
  }
  return indices;
}
