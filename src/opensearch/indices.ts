/**
 * OpenSearch layout: an index template per namespace, one index per generation
 * (`<ns>-users-<gen>`), and the alias `<ns>-users` on the live one. The mapping serves the
 * report's queries directly: keywords and numbers for filters and sorts, entries stored unindexed.
 */
import type { Client, Types } from '@opensearch-project/opensearch';
import { CHANNEL_SCOPES } from '../../projections/index.ts';
import { TYPE_SCOPES } from './user-document.ts';

export interface IndexLayoutOptions {
  namespace: string;
  shards?: number;
  replicas?: number;
}

export const usersAlias = (namespace: string) => `${namespace}-users`;
export const usersIndex = (namespace: string, generation: string) => `${namespace}-users-${generation}`;
export const factsAlias = (namespace: string) => `${namespace}-facts`;
export const factsIndex = (namespace: string, generation: string) => `${namespace}-facts-${generation}`;

/**
 * Checkpoint documents (src/integrity/checkpoints.ts): in each index, per partition, the last offset
 * whose writes it holds; the same field in both mappings.
 */
export const checkpointMapping: Property = { properties: { field: { type: 'keyword' }, offset: { type: 'long' } } };

type Property = Types.Common_Mapping.Property;
type TypeMapping = Types.Common_Mapping.TypeMapping;

/** Kept in `_source` only: no query or sort reads it (decision 39). */
const STORED_KEYWORD: Property = { type: 'keyword', index: false, doc_values: false };
const STORED_LONG: Property = { type: 'long', index: false, doc_values: false };

/** The event that opened or closed an interval: only its `seq` is searched and sorted on (rollback repair, the history's order). */
const eventRefMapping: Property = {
  properties: {
    event_id: STORED_KEYWORD,
    type: STORED_KEYWORD,
    topic: STORED_KEYWORD,
    partition: { type: 'integer', index: false, doc_values: false },
    offset: STORED_KEYWORD,
    time: STORED_KEYWORD,
    time_ms: STORED_LONG,
    seq: { type: 'long' },
  },
};

/** Fact intervals (raw facts over event time): found by account and time (`as_of`) or by subject (a user's history); the value is stored only. */
function factsMapping(): TypeMapping {
  return {
    dynamic: 'strict',
    properties: {
      account_id: { type: 'keyword' },
      fact_key: { type: 'keyword' },
      subject: { type: 'keyword' },
      value: STORED_KEYWORD,
      from_ms: { type: 'long' },
      to_ms: { type: 'long' },
      from: eventRefMapping,
      to: eventRefMapping,
      checkpoint: checkpointMapping,
    },
  };
}

/** The target-filter keys (user-document.ts tg, tc): added after the first generations, see ensureUsersFields. */
function targetFields(): Record<string, Property> {
  const perScope: Property = { properties: Object.fromEntries(CHANNEL_SCOPES.map((c): [string, Property] => [c, { type: 'keyword' }])) };
  return { tg: perScope, tc: perScope };
}

/**
 * Adds the users fields added since an index was created (a mapping only grows, so this is
 * idempotent and safe on a live index). Its existing documents get values only when rewritten: a
 * rebuild fills every one (docs/api.md, target filters).
 */
export async function ensureUsersFields(client: Client, index: string): Promise<void> {
  await client.indices.putMapping({ index, body: { properties: targetFields() } });
}

function usersMapping(): TypeMapping {
  const scopeObject = (props: Record<string, Property>): Property => ({ properties: props });
  return {
    dynamic: 'strict',
    properties: {
      account_id: { type: 'keyword' },
      user_id: { type: 'keyword' },
      // Searched through search_terms and sorted through name_sort / email_sort: stored only.
      display_name: STORED_KEYWORD,
      user_email: STORED_KEYWORD,
      user_access: { type: 'keyword' },
      name_sort: { type: 'keyword' },
      email_sort: { type: 'keyword' },
      search_terms: { type: 'keyword' },
      ca: scopeObject(Object.fromEntries(CHANNEL_SCOPES.map((c) => [c, scopeObject(Object.fromEntries(TYPE_SCOPES.map((t): [string, Property] => [t, { type: 'integer' }])))]))),
      at: scopeObject(Object.fromEntries(CHANNEL_SCOPES.map((c): [string, Property] => [c, { type: 'keyword' }]))),
      ...targetFields(),
      entries: { type: 'object', enabled: false },
      checkpoint: checkpointMapping,
    },
  };
}

/** Creates or updates the namespace's templates (idempotent). */
export async function ensureTemplates(client: Client, options: IndexLayoutOptions): Promise<void> {
  const settings = {
    number_of_shards: options.shards ?? 1,
    number_of_replicas: options.replicas ?? 0,
    // Only the position publisher refreshes, between whole groups of writes (decision 28): a
    // periodic refresh would show half-written groups that no published position names.
    refresh_interval: '-1',
    // Deleted users' tombstones must outlive any redelivery that could resurrect them.
    gc_deletes: '1h',
  };
  for (const [name, mappings] of [
    [usersAlias(options.namespace), usersMapping()],
    [factsAlias(options.namespace), factsMapping()],
  ] as const)
    await client.indices.putIndexTemplate({ name, body: { index_patterns: [`${name}-*`], template: { settings, mappings } } });
}

/** Points the alias at `index` alone, atomically (readers see the old or the new index, never none). */
export async function pointAlias(client: Client, alias: string, index: string): Promise<void> {
  const current = await client.indices.getAlias({ name: alias }).catch(() => ({ body: {} }));
  const actions: object[] = Object.keys(current.body ?? {})
    .filter((name) => name !== index)
    .map((name) => ({ remove: { index: name, alias } }));
  actions.push({ add: { index, alias } });
  await client.indices.updateAliases({ body: { actions } });
}

/** What a refresh reports of its shards. */
export interface RefreshShards {
  total?: number;
  successful?: number;
  failed?: number;
}

/**
 * Throws when a shard failed the refresh: what it was to make searchable may not be, so nothing may
 * be published or cleared on its word (a publisher retries on its next tick). A replica not assigned
 * (a yellow cluster) is not a failure: it counts in `total`, not in `successful` or `failed`.
 */
export function requireRefreshed(shards: RefreshShards | undefined, index: string): void {
  const failed = shards?.failed ?? 0;
  if (failed > 0) throw new Error(`refresh of ${index}: ${failed} of ${shards?.total ?? '?'} shards failed`);
}

/** Refreshes the indices (comma-separated) and requires every shard refreshed (requireRefreshed). */
export async function refreshIndices(client: Client, index: string): Promise<void> {
  const { body } = await client.indices.refresh({ index });
  requireRefreshed(body._shards, index);
}
