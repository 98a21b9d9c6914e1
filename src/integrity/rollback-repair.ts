/**
 * Repair after Redis went back in time (an RDB snapshot restored, a lagging replica promoted):
 * Redis holds an older but consistent state S0, OpenSearch holds what the lost stretch wrote on top
 * of it. Before the lost events are replayed from Redis's applied offsets (the projector seeks),
 * OpenSearch is brought back to S0, so that the replay, whatever its interleaving, ends exactly
 * where a clean replay would:
 * - a new epoch is taken (above any epoch Redis or the indices know), so every write from now on
 *   outranks the lost stretch's versions (src/integrity/versions.ts);
 * - every user document of every account is written again from S0's facts (users that S0 does
 *   not know are deleted);
 * - fact intervals opened or closed after S0 (their `from.seq` or `to.seq` is past the account's
 *   S0 version) are deleted: an interval open at S0 is S0's raw fact in Redis (decision 47).
 * The plan (the S0 version of each account, the new epoch) is kept in the repair marker first, so
 * a repair interrupted by a crash resumes with the same plan.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import { allDocs } from '../../projections/index.ts';
import { type GenerationIndices, readIdentity, readIndexIdentity, writeIndexIdentity } from '../generation.ts';
import type { Logger } from '../logger.ts';
import { writeDocs } from '../opensearch/bulk-writer.ts';
import type { DocOp } from '../ports/documents.ts';
import { readAccountUsers } from '../opensearch/read-users.ts';
import { toIndexedUser, userDocId } from '../opensearch/user-document.ts';
import { seqLimit } from '../records/fact-intervals.ts';
import type { AccountStatePort } from '../ports/account-state.ts';
import { type KeySpace, generationKeys } from '../redis/keys.ts';
import { LIFT_ALL, RAISE_COUNTER } from '../redis/scripts.ts';
import { REFRESH_FIELD, readCheckpoints } from './checkpoints.ts';
import { readRepair, writeRepair } from './repair-state.ts';
import { versionOffset } from './versions.ts';
import { refreshIndices } from '../opensearch/indices.ts';

export interface RollbackRepairDeps {
  redis: Redis;
  opensearch: Client;
  store: AccountStatePort;
  space: KeySpace;
  /** the generation's concrete indices */
  indices: GenerationIndices;
  windowMs: number;
  logger: Logger;
}

/**
 * Brings OpenSearch back to what Redis holds and raises the epoch; returns the new epoch. `reason`
 * and `target` (per partition, the offsets the lost stretch had reached) go into the marker.
 */
export async function repairRollback(deps: RollbackRepairDeps, reason: string, target: ReadonlyMap<string, bigint>): Promise<number> {
  const { redis, opensearch, space, indices, logger } = deps;
  const started = Date.now();
  const plan = await planRepair(deps, reason, target);
  logger.error(
    { fault: 'redis_behind', reason, epoch: plan.epoch, accounts: plan.versions.size },
    'Redis went back in time: rewriting OpenSearch from its state, then replaying the lost events',
  );
  // The indices learn the epoch before Redis does: whoever reads the epoch from Redis writes with
  // one that the indices already know, and a later repair takes one above both.
  for (const index of indexList(indices)) await writeIndexIdentity(opensearch, index, { ...(await readIdentity(redis, space))!, epoch: plan.epoch }, space.generation);
  await redis.hset(generationKeys(space).identity, 'epoch', String(plan.epoch));
  await lowerPositions(redis, space);
  await raiseRefreshNumber(redis, space, opensearch, indexList(indices));
  const offset = versionOffset(plan.epoch);
  let done = 0;
  for (const [accountId, v0] of plan.versions) {
    await rewriteAccount(deps, accountId, v0, offset);
    done += 1;
    await writeRepair(redis, space.namespace, { done: String(done), heartbeat_at: new Date().toISOString() });
  }
  await refreshIndices(opensearch, indexList(indices).join(','));
  // Every account is whole in the index now: no mark of a part-written round stands (decision 59).
  await redis.eval(LIFT_ALL, 2, generationKeys(space).torn, generationKeys(space).tornPartitions);
  await writeRepair(redis, space.namespace, { phase: 'replaying', heartbeat_at: new Date().toISOString() });
  logger.info({ accounts: done, seconds: (Date.now() - started) / 1000, epoch: plan.epoch }, 'OpenSearch holds what Redis holds again; replaying the lost events');
  return plan.epoch;
}

/**
 * Searchable positions never above the applied ones: a position published for a write of the lost
 * stretch (raised after Redis came back) would let `min_position` pass on a state without it.
 */
async function lowerPositions(redis: Redis, space: KeySpace): Promise<void> {
  const keys = generationKeys(space);
  const [positions, applied] = await Promise.all([redis.hgetall(keys.positions), redis.hgetall(keys.applied)]);
  for (const [field, offset] of Object.entries(positions)) {
    const limit = applied[field];
    if (limit === undefined) await redis.hdel(keys.positions, field);
    else if (BigInt(offset) > BigInt(limit)) await redis.hset(keys.positions, field, limit);
  }
}

/**
 * Refresh numbers above the indices' refresh checkpoints: Redis came back with an older count, and
 * until it passed the indices' again the sealed-refresh check (decision 35) would vouch for nothing.
 */
async function raiseRefreshNumber(redis: Redis, space: KeySpace, opensearch: Client, indices: readonly string[]): Promise<void> {
  let highest = 0n;
  for (const index of indices) {
    const held = (await readCheckpoints(opensearch, index, [REFRESH_FIELD])).get(REFRESH_FIELD) ?? 0n;
    if (held > highest) highest = held;
  }
  await redis.eval(RAISE_COUNTER, 1, generationKeys(space).refreshing, highest.toString());
}

/** The plan of a repair: resumed from the marker when one is under way for this generation. */
async function planRepair(deps: RollbackRepairDeps, reason: string, target: ReadonlyMap<string, bigint>): Promise<{ epoch: number; versions: Map<string, number> }> {
  const { redis, opensearch, store, space, indices } = deps;
  const marker = await readRepair(redis, space.namespace);
  if (marker?.code === 'redis_behind' && marker.phase === 'cleaning' && marker.generation === space.generation && marker.plan)
    return { epoch: marker.plan.epoch, versions: new Map(Object.entries(marker.plan.versions)) };
  let epoch = (await readIdentity(redis, space))?.epoch ?? 0;
  for (const index of indexList(indices)) epoch = Math.max(epoch, (await readIndexIdentity(opensearch, index)).epoch ?? 0);
  epoch += 1;
  const versions = new Map<string, number>();
  for (const accountId of await store.accounts()) versions.set(accountId, await store.version(accountId));
  await writeRepair(redis, space.namespace, {
    code: 'redis_behind',
    reason,
    phase: 'cleaning',
    generation: space.generation,
    started_at: new Date().toISOString(),
    heartbeat_at: new Date().toISOString(),
    done: '0',
    total: String(versions.size),
    target: JSON.stringify(Object.fromEntries([...target].map(([f, o]) => [f, o.toString()]))),
    plan: JSON.stringify({ epoch, versions: Object.fromEntries(versions) }),
  });
  return { epoch, versions };
}

/** One account: documents from S0's facts, intervals of the lost stretch removed. */
async function rewriteAccount(deps: RollbackRepairDeps, accountId: string, v0: number, offset: number): Promise<void> {
  const { opensearch, store, indices, windowMs } = deps;
  const account = await store.load(accountId, windowMs);
  const docs = allDocs(account.state.facts);
  const ops: DocOp[] = [];
  for (const [userId, doc] of docs) ops.push({ op: 'index', index: indices.users, id: userDocId(accountId, userId), version: v0, doc: toIndexedUser(accountId, doc) });
  for await (const u of readAccountUsers(opensearch, indices.users, accountId))
    if (!docs.has(u.user_id)) ops.push({ op: 'delete', index: indices.users, id: userDocId(accountId, u.user_id), version: v0 });
  await writeDocs(opensearch, ops, { versionOffset: offset });
  // Opened or closed after S0: Redis's S0 holds the open ones as its raw facts (decision 47).
  const after = seqLimit(v0);
  const index = indices.facts;
  await drain(
    opensearch,
    index,
    {
      bool: {
        filter: [{ term: { account_id: accountId } }],
        should: [{ range: { 'from.seq': { gte: after } } }, { range: { 'to.seq': { gte: after } } }],
        minimum_should_match: 1,
      },
    },
    v0,
    offset,
  );
}

/** Deletes (at `version`) every record the query finds, page after page, until it finds none. */
async function drain(opensearch: Client, index: string, query: object, version: number, offset: number): Promise<void> {
  for (;;) {
    await refreshIndices(opensearch, index);
    const { body } = await opensearch.search({ index, body: { size: 5_000, query, version: false, _source: false } });
    const hits = (body as { hits: { hits: { _id: string }[] } }).hits.hits;
    if (hits.length === 0) return;
    const result = await writeDocs(
      opensearch,
      hits.map((h): DocOp => ({ op: 'delete', index, id: h._id, version })),
      { versionOffset: offset },
    );
    // Refused as stale, they would be found again forever: a newer epoch wrote them, so another
    // repair is under way. Stop this one; the next check starts over.
    if (result.stale === hits.length)
      throw new Error(`rollback repair: ${hits.length} records of ${index} carry a newer epoch than ${offset / 2 ** 32}; another repair wrote them`);
  }
}

/** The generation's indices (the object may carry more than their names). */
function indexList(indices: GenerationIndices): string[] {
  return [indices.users, indices.facts];
}
