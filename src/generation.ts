/**
 * Generations: the live index and Redis keyspace are one generation (`g1`, `g2`, …) named by the
 * Redis key `<namespace>:live`. A rebuild fills the next generation and swaps the pointer, so the
 * API, which reads the pointer, moves from one complete generation to the other in one step.
 *
 * Each generation has an identity: a random id kept in Redis (`<ns>:<gen>:identity`) and in the
 * `_meta` of its three indices. A generation is created only on purpose (the first start of an
 * empty namespace, a rebuild); opening an existing one checks that Redis and every index still
 * carry the same id, so that a Redis that lost the namespace, or an index deleted and recreated,
 * is a fault that is reported, never a fresh generation silently made over the old one
 * (docs/reliability.md).
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { IntegrityFault } from './integrity/fault.ts';
import { checkpointMapping, ensureTemplates, factsAlias, factsIndex, pointAlias, usersAlias, usersIndex } from './opensearch/indices.ts';
import { type KeySpace, generationKeys, liveGenerationKey } from './redis/keys.ts';

export const FIRST_GENERATION = 'g1';

/**
 * The layout of a generation's indices, in their `_meta`. 2: fact intervals carry their `subject`
 * and there is no history index (decision 30). 3: a fact interval is written once, when it closes;
 * the open ones are Redis's raw facts, found by subject through `rsub` (decision 47), which a
 * generation of layout 2 does not have. A generation of an older layout is rebuilt.
 */
export const INDEX_LAYOUT = 3;

export interface GenerationIndices {
  users: string;
  facts: string;
}

export interface GenerationIdentity {
  id: string;
  createdAt: string;
  /** the high part of every external version written to the generation's indices */
  epoch: number;
}

/** What an index says about the generation it belongs to (`_meta.access_index`). */
export interface IndexIdentity {
  exists: boolean;
  generationId?: string;
  epoch?: number;
  /** INDEX_LAYOUT when the index was made; 1 when its `_meta` names none (made before layouts were named) */
  layout?: number;
}

/**
 * The alias the projector writes through (with `require_alias`): when an index is deleted its
 * alias goes with it, so a write fails instead of recreating the index empty.
 */
export const writeAlias = (index: string): string => `${index}-w`;

/** The write aliases of a generation's indices. */
export function writeAliases(indices: GenerationIndices): GenerationIndices {
  return { users: writeAlias(indices.users), facts: writeAlias(indices.facts) };
}

export function generationIndices(namespace: string, generation: string): GenerationIndices {
  return { users: usersIndex(namespace, generation), facts: factsIndex(namespace, generation) };
}

export const generationNumber = (g: string | undefined): number => Number(/^g(\d+)$/.exec(g ?? '')?.[1] ?? 0);

/** The generation's identity in Redis, or null when Redis does not have it. */
export async function readIdentity(redis: Redis, space: KeySpace): Promise<GenerationIdentity | null> {
  const raw = await redis.hgetall(generationKeys(space).identity);
  if (!raw.id) return null;
  return { id: raw.id, createdAt: raw.created_at ?? '', epoch: Number(raw.epoch ?? 0) };
}

/** The identity an index carries in its mapping's `_meta`; `exists: false` when the index is gone. */
export async function readIndexIdentity(opensearch: Client, index: string): Promise<IndexIdentity> {
  try {
    const { body } = await opensearch.indices.getMapping({ index });
    const meta = (body as Record<string, { mappings?: { _meta?: { access_index?: { generation_id?: string; epoch?: number; layout?: number } } } }>)[index]?.mappings?._meta
      ?.access_index;
    return {
      exists: true,
      ...(meta?.generation_id ? { generationId: meta.generation_id } : {}),
      ...(meta?.epoch !== undefined ? { epoch: Number(meta.epoch) } : {}),
      ...(meta ? { layout: Number(meta.layout ?? 1) } : {}),
    };
  } catch (error) {
    if ((error as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return { exists: false };
    throw error;
  }
}

/** Writes the identity (and epoch) into the `_meta` of an existing index, keeping the layout it was made with. */
export async function writeIndexIdentity(opensearch: Client, index: string, identity: GenerationIdentity, generation: string): Promise<void> {
  const layout = (await readIndexIdentity(opensearch, index)).layout ?? 1;
  await opensearch.indices.putMapping({ index, body: { _meta: indexMeta(identity, generation, layout) } });
}

function indexMeta(identity: GenerationIdentity, generation: string, layout = INDEX_LAYOUT) {
  return { access_index: { generation, generation_id: identity.id, epoch: identity.epoch, layout } };
}

/** Why an index of the live generation cannot serve this version, or undefined when it can. */
export function outdatedReason(index: string, found: IndexIdentity, generation: string): string | undefined {
  if ((found.layout ?? 1) >= INDEX_LAYOUT) return undefined;
  return `index ${index} of generation ${generation} has layout ${found.layout ?? 1}, made by an earlier version; this one needs layout ${INDEX_LAYOUT} (fact intervals written once they close, the open ones read from Redis by subject): the service rebuilds the generation`;
}

/** The history index of layout 1 (before decision 30): still found, and dropped with its generation. */
export const legacyHistoryAlias = (namespace: string) => `${namespace}-history`;

/** The generations that have indices in OpenSearch (from the index names), in number order. */
export async function generationsWithIndices(opensearch: Client, namespace: string): Promise<string[]> {
  const { body } = await opensearch.cat.indices({
    index: [`${usersAlias(namespace)}-g*`, `${legacyHistoryAlias(namespace)}-g*`, `${factsAlias(namespace)}-g*`],
    format: 'json',
    h: ['index'],
    expand_wildcards: 'all',
  });
  const found = new Set<string>();
  const prefixes = [usersAlias(namespace), legacyHistoryAlias(namespace), factsAlias(namespace)].map((p) => `${p}-`);
  for (const { index } of body as { index: string }[]) {
    const prefix = prefixes.find((p) => index.startsWith(p));
    const generation = prefix ? index.slice(prefix.length) : '';
    if (/^g\d+$/.test(generation)) found.add(generation);
  }
  return [...found].sort((a, b) => generationNumber(a) - generationNumber(b));
}

/** The generations that have a projector consumer group in Kafka (`<namespace>-projector-g<N>`). */
export async function generationsWithGroups(kafka: Kafka, namespace: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const prefix = `${namespace}-projector-`;
    const { groups } = await admin.listGroups();
    return groups
      .map((g) => g.groupId)
      .filter((id) => id.startsWith(prefix) && /^g\d+$/.test(id.slice(prefix.length)))
      .map((id) => id.slice(prefix.length))
      .sort((a, b) => generationNumber(a) - generationNumber(b));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates a generation: its identity in Redis (kept if a resumed rebuild made it already), then its
 * indices with the identity in their `_meta`. An index that exists with another identity is a
 * fault: it belongs to an earlier life of this generation number.
 */
export async function createGeneration(
  redis: Redis,
  opensearch: Client,
  namespace: string,
  generation: string,
  options: { shards?: number; replicas?: number } = {},
): Promise<GenerationIndices> {
  await ensureTemplates(opensearch, {
    namespace,
    ...(options.shards ? { shards: options.shards } : {}),
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
  });
  const key = generationKeys({ namespace, generation }).identity;
  await redis.hsetnx(key, 'id', randomUUID());
  await redis.hsetnx(key, 'created_at', new Date().toISOString());
  await redis.hsetnx(key, 'epoch', '0');
  const identity = (await readIdentity(redis, { namespace, generation }))!;
  const indices = generationIndices(namespace, generation);
  for (const index of Object.values(indices)) {
    const found = await readIndexIdentity(opensearch, index);
    if (found.exists) {
      if (found.generationId !== identity.id)
        throw new IntegrityFault('index_lost', `index ${index} exists but belongs to another life of generation ${generation} (its _meta says ${found.generationId ?? 'nothing'})`);
      continue;
    }
    try {
      await opensearch.indices.create({ index, body: { mappings: { _meta: indexMeta(identity, generation) }, aliases: { [writeAlias(index)]: {} } } });
    } catch (error) {
      if (!String((error as { message?: string }).message).includes('resource_already_exists_exception')) throw error;
    }
  }
  return indices;
}

/**
 * Opens an existing generation: its identity must be in Redis and in every index. Throws an
 * IntegrityFault naming what is missing (nothing is created).
 */
export async function openGeneration(redis: Redis, opensearch: Client, space: KeySpace): Promise<GenerationIndices & { identity: GenerationIdentity }> {
  const identity = (await readIdentity(redis, space)) ?? (await adoptLegacyGeneration(redis, opensearch, space));
  if (!identity)
    throw new IntegrityFault(
      'redis_lost',
      `Redis has no state for generation ${space.generation} of namespace ${space.namespace} (its identity key is gone): Redis was emptied or lost these keys`,
    );
  const indices = generationIndices(space.namespace, space.generation);
  for (const index of Object.values(indices)) {
    const found = await readIndexIdentity(opensearch, index);
    if (!found.exists) throw new IntegrityFault('index_lost', `index ${index} of the live generation ${space.generation} is missing in OpenSearch`);
    if (found.generationId !== identity.id)
      throw new IntegrityFault(
        'index_lost',
        `index ${index} does not carry the identity of generation ${space.generation} (it was deleted and recreated, or restored from another life of the namespace)`,
      );
    const outdated = outdatedReason(index, found, space.generation);
    if (outdated) throw new IntegrityFault('index_outdated', outdated);
    // The identity matches: the index is ours, so its write alias may be put back if it went
    // missing, and a generation made before checkpoints gets their field.
    await opensearch.indices.putAlias({ index, name: writeAlias(index) });
    await opensearch.indices.putMapping({ index, body: { properties: { checkpoint: checkpointMapping } } });
    await opensearch.indices.putSettings({ index, body: { index: { refresh_interval: '-1' } } });
  }
  return { ...indices, identity };
}

/**
 * A generation made before identities existed: Redis has its state but no identity, and its
 * indices carry none either. It gets one now (the indices' `_meta` and write aliases too). An index
 * that carries an identity while Redis has none means that Redis lost the generation: null.
 */
async function adoptLegacyGeneration(redis: Redis, opensearch: Client, space: KeySpace): Promise<GenerationIdentity | null> {
  const keys = generationKeys(space);
  if ((await redis.exists(keys.accounts, keys.applied, keys.positions)) === 0) return null;
  const indices = Object.values(generationIndices(space.namespace, space.generation));
  for (const index of indices) {
    const found = await readIndexIdentity(opensearch, index);
    if (!found.exists || found.generationId !== undefined) return null;
  }
  await redis.hsetnx(keys.identity, 'id', randomUUID());
  await redis.hsetnx(keys.identity, 'created_at', new Date().toISOString());
  await redis.hsetnx(keys.identity, 'epoch', '0');
  const identity = (await readIdentity(redis, space))!;
  for (const index of indices) await writeIndexIdentity(opensearch, index, identity, space.generation);
  return identity;
}

/**
 * The live generation. On a namespace that has nothing yet (no pointer, no indices) it creates the
 * first generation; when the pointer is gone but the namespace's indices exist, Redis has lost the
 * namespace and an IntegrityFault says so (a repair rebuilds it; see src/integrity/).
 */
export async function openLiveGeneration(redis: Redis, opensearch: Client, namespace: string, kafka?: Kafka): Promise<{ generation: string; indices: GenerationIndices }> {
  let generation = await redis.get(liveGenerationKey(namespace));
  if (!generation) {
    const existing = await generationsWithIndices(opensearch, namespace);
    if (existing.length > 0)
      throw new IntegrityFault(
        'redis_lost',
        `Redis has no live generation for namespace ${namespace}, but OpenSearch holds its indices (generations ${existing.join(', ')}): Redis was emptied or lost the namespace`,
      );
    const groups = kafka ? await generationsWithGroups(kafka, namespace) : [];
    if (groups.length > 0)
      throw new IntegrityFault(
        'redis_lost',
        `Redis has no live generation for namespace ${namespace}, but Kafka holds its consumer groups (generations ${groups.join(', ')}): Redis was emptied or lost the namespace`,
      );
    await createGeneration(redis, opensearch, namespace, FIRST_GENERATION);
    await redis.set(liveGenerationKey(namespace), FIRST_GENERATION, 'NX');
    generation = (await redis.get(liveGenerationKey(namespace))) ?? FIRST_GENERATION;
  }
  const indices = await openGeneration(redis, opensearch, { namespace, generation });
  await pointAliases(opensearch, namespace, indices);
  return { generation, indices: { users: indices.users, facts: indices.facts } };
}

/** Points the namespace's aliases (for people and tools) at a generation's indices, where they are not yet. */
export async function pointAliases(opensearch: Client, namespace: string, indices: GenerationIndices): Promise<void> {
  for (const [alias, index] of [
    [usersAlias(namespace), indices.users],
    [factsAlias(namespace), indices.facts],
  ] as const) {
    const current = await opensearch.indices.getAlias({ name: alias }).catch(() => undefined);
    if (!current || !Object.keys(current.body ?? {}).includes(index)) await pointAlias(opensearch, alias, index);
  }
}
