/**
 * Checkpoints: each index of a generation holds, per partition, one small document saying up to
 * which offset its writes went (written by the position publisher before the refresh that makes a
 * position searchable, so an index always holds a checkpoint at or past every published position).
 * An index restored from an older snapshot holds older checkpoints than the positions Redis
 * publishes: the integrity monitor, the publisher and each search compare them. One more checkpoint
 * per index carries the refresh number (REFRESH_FIELD). The documents belong to no account
 * (`account_id` is CHECKPOINT_ACCOUNT), so no report query ever finds them.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { DocOp } from '../ports/documents.ts';

export const CHECKPOINT_ACCOUNT = '\u0000checkpoint';

export const checkpointId = (field: string): string => `\u0000checkpoint\u001f${field}`;

/**
 * The checkpoint that carries the number of the refresh that wrote it (a field that no
 * `<topic>:<partition>` can be). Accounts' own positions run ahead of their partitions', so no
 * partition checkpoint can vouch for them; the refresh number can: Redis seals a refresh (keys.ts
 * `sealed`) after its checkpoints are written and before its positions are published, so an index
 * holding an older refresh number than the sealed one misses published writes (decision 35).
 */
export const REFRESH_FIELD = 'refresh';

/** What a check compares an index with: the partitions' published positions and the sealed refresh number. */
export function publishedGuard(positions: ReadonlyMap<string, bigint>, sealed: number): Map<string, bigint> {
  const out = new Map(positions);
  if (sealed > 0) out.set(REFRESH_FIELD, BigInt(sealed));
  return out;
}

/** The checkpoint writes of `positions` into each index (version: offset + 1, so they only go forward). */
export function checkpointOps(indices: readonly string[], positions: ReadonlyMap<string, bigint>): DocOp[] {
  const ops: DocOp[] = [];
  for (const index of indices)
    for (const [field, offset] of positions)
      ops.push({
        op: 'index',
        index,
        id: checkpointId(field),
        version: Number(offset) + 1,
        doc: { account_id: CHECKPOINT_ACCOUNT, checkpoint: { field, offset: Number(offset) } },
      });
  return ops;
}

/** The checkpoints an index holds for `fields` (realtime reads; a field without one is absent). */
export async function readCheckpoints(opensearch: Client, index: string, fields: readonly string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (fields.length === 0) return out;
  const { body } = await opensearch.mget({ index, body: { ids: fields.map(checkpointId) } });
  for (const doc of (body as { docs: { found?: boolean; _source?: { checkpoint?: { field: string; offset: number } } }[] }).docs)
    if (doc.found && doc._source?.checkpoint) out.set(doc._source.checkpoint.field, BigInt(doc._source.checkpoint.offset));
  return out;
}

/**
 * Why `index` holds less than `published` says was written (one of its checkpoints is behind a
 * published position), or undefined when it holds it all. Read the positions first: both only grow.
 */
export async function indexBehind(opensearch: Client, index: string, published: ReadonlyMap<string, bigint>): Promise<string | undefined> {
  const held = await readCheckpoints(opensearch, index, [...published.keys()]);
  const behind = [...held].find(([field, offset]) => offset < published.get(field)!);
  if (!behind) return undefined;
  if (behind[0] === REFRESH_FIELD)
    return `index ${index} holds the checkpoints of refresh ${behind[1]} only, but refresh ${published.get(REFRESH_FIELD)} was published: the index went back in time (restored from an older snapshot)`;
  return `index ${index} holds writes of ${behind[0]} up to offset ${behind[1]} only, but offset ${published.get(behind[0])} was published as searchable: the index went back in time (restored from an older snapshot)`;
}
