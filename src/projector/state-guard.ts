/**
 * What the projector checks of Redis before it trusts it (docs/reliability.md): that Redis still
 * holds this generation (its identity), the generation's epoch, and that every batch continues its
 * partition where Redis's applied offsets end (src/integrity/continuity.ts). A gap means Redis lost
 * events it had applied: the guard has OpenSearch brought back to Redis's state (`repair`) and the
 * partition read again from there (`seek`). It owns the projector's Redis connection fence: nothing
 * is read or written on a connection re-established since its state was last checked.
 */
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { AppError } from '../errors.ts';
import { type GenerationIdentity, readIdentity } from '../generation.ts';
import { versionOffset } from '../integrity/versions.ts';
import { type BatchBounds, checkContinuity, splitField } from '../integrity/continuity.ts';
import { IntegrityFault } from '../integrity/fault.ts';
import { clearRepair, readRepair, type RepairMarker } from '../integrity/repair-state.ts';
import type { Logger } from '../logger.ts';
import type { AccountStatePort } from '../ports/account-state.ts';
import { unwrap } from '../redis/account-store.ts';
import { type KeySpace, generationKeys } from '../redis/keys.ts';

/**
 * A round found a gap while other rounds were in flight: the repair must run alone (it rewrites
 * OpenSearch and drops the cache), so the round stops and the projector repairs once the others
 * are done (src/projector/projector.ts).
 */
export class RepairNeeded extends AppError {
  constructor(reason: string) {
    super('store_conflict', reason, { retriable: false });
    this.name = 'RepairNeeded';
  }
}

export interface StateGuardOptions {
  /** the projector's own connection (no offline queue) */
  redis: Redis;
  kafka: Kafka;
  space: KeySpace;
  namespace: string;
  groupId: string;
  eventTopics: readonly string[];
  store: () => AccountStatePort;
  logger: Logger;
  /** the connection closed: what was read through it is no longer to be trusted */
  onReconnect: () => void;
  /** consume `<topic>:<partition>` again from `offset` */
  seek: (field: string, offset: bigint) => void;
  /** Redis went back in time: bring OpenSearch back to Redis's state (src/integrity/rollback-repair.ts); returns the new epoch */
  repair: (reason: string, target: Map<string, bigint>) => Promise<number>;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createStateGuard(options: StateGuardOptions) {
  const { redis, space, namespace, logger } = options;
  const genKeys = generationKeys(space);
  /** bumped whenever the connection closes; `checked` records the one the last check ran on */
  let connection = 0;
  let checked = -1;
  let identity: GenerationIdentity | undefined;
  let epoch = 0;
  /** partitions sought back to their applied offset + 1, and that offset */
  const sought = new Map<string, bigint>();
  redis.on('close', () => {
    connection += 1;
    options.onReconnect();
  });

  const seek = (field: string, from: bigint) => {
    sought.set(field, from);
    options.seek(field, from);
  };

  /**
   * Reads the applied offsets of `fields` after checking that Redis still holds this generation
   * (its identity) and taking its epoch; records the connection as checked (the fence).
   */
  async function readChecked(fields: readonly string[]): Promise<Map<string, bigint>> {
    const seen = connection;
    if (redis.status !== 'ready') throw new AppError('redis_unavailable', `Redis is not connected (${redis.status})`, { retriable: true });
    const [id, epochNow, appliedRaw] = unwrap(
      await redis
        .multi()
        .hget(genKeys.identity, 'id')
        .hget(genKeys.identity, 'epoch')
        .hmget(genKeys.applied, ...fields)
        .exec(),
    ) as [string | null, string | null, (string | null)[]];
    if (seen !== connection) throw new AppError('redis_unavailable', 'the Redis connection changed during the check', { retriable: true });
    if (id !== identity?.id)
      throw new IntegrityFault(
        'redis_lost',
        `Redis no longer holds generation ${space.generation} of namespace ${namespace} (its identity is ${id ? 'another one' : 'gone'}): Redis was emptied or replaced`,
      );
    checked = seen;
    epoch = Math.max(epoch, Number(epochNow ?? 0));
    const applied = new Map<string, bigint>();
    fields.forEach((f, i) => appliedRaw[i] != null && applied.set(f, BigInt(appliedRaw[i])));
    return applied;
  }

  async function repair(reason: string, target: Map<string, bigint>): Promise<void> {
    epoch = await options.repair(reason, target);
  }

  /** A partition sought back that still starts later: has the topic lost the events in between? */
  async function checkHistoryHeld(field: string, from: bigint): Promise<void> {
    const { topic, partition } = splitField(field);
    const admin = options.kafka.admin();
    await admin.connect();
    try {
      const low = BigInt((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.low ?? '0');
      if (low > from)
        throw new IntegrityFault(
          'history_gone',
          `topic ${topic} partition ${partition}: the state needs offset ${from} next, but the topic now begins at offset ${low}: events ${from} to ${low - 1n} were deleted (retention or deleteRecords), so the state cannot be brought up to date exactly`,
        );
    } finally {
      await admin.disconnect();
    }
  }

  function resetFault(reset: { field: string; applied: bigint; highWatermark: bigint }): IntegrityFault {
    const { topic, partition } = splitField(reset.field);
    return new IntegrityFault(
      'topic_reset',
      `topic ${topic} partition ${partition} ends at offset ${reset.highWatermark - 1n}, but the state has applied its events up to offset ${reset.applied}: the topic was deleted and recreated, so its offsets no longer name the events the state was built from`,
    );
  }

  return {
    /** Throws unless the connection in use is the one last checked (the account store's fence). */
    fence(): void {
      if (checked !== connection || redis.status !== 'ready')
        throw new AppError('redis_unavailable', 'the Redis connection was re-established since its state was checked', { retriable: true });
    },

    /** The generation's epoch, as last read (the high part of the versions written to OpenSearch). */
    epoch: () => epoch,

    /** At start: adopts the generation Redis holds now; throws when it holds none. */
    async adopt(): Promise<void> {
      identity = (await readIdentity(redis, space)) ?? undefined;
      if (!identity) throw new IntegrityFault('redis_lost', `Redis has no state for generation ${space.generation} of namespace ${namespace}`);
      epoch = identity.epoch;
      checked = connection;
    },

    /**
     * After a bulk write made at `written` version offsets: if another member raised the epoch
     * meanwhile (it repaired a rollback), the write may have been refused as stale; failing here
     * keeps the outbox, and the retry writes it again with the new epoch. Every round whose bulk
     * was made at an older epoch fails, not only the first to see the change (the rounds of one
     * group bulk are checked one after another, decisions 56 and 60).
     */
    async checkEpoch(written: ReadonlySet<number>): Promise<void> {
      const now = Number((await redis.hget(genKeys.identity, 'epoch')) ?? 0);
      const stale = now !== epoch || [...written].some((offset) => offset !== versionOffset(now));
      if (stale) {
        epoch = Math.max(epoch, now);
        throw new AppError('store_conflict', `the generation's epoch changed to ${now} during the write`, { retriable: true });
      }
    },

    /**
     * Before every attempt at a round: the partitions that continue where Redis's applied offsets
     * end (each round's `bounds` say where its next raise starts), the repair marker seen and the
     * applied offsets read. Partitions with a gap are sought back (after a repair when the gap is
     * new) and left out; unless the round is not `alone` (others are in flight): then it throws
     * RepairNeeded and nothing is sought or repaired.
     */
    async checkRound(bounds: readonly BatchBounds[], alone = true): Promise<{ kept: Set<string>; marker: RepairMarker | null; applied: Map<string, bigint> }> {
      // Sent together (one round trip; Redis runs them in this order): the checks are serialized,
      // and each round trip waits its turn behind the rounds' commits in Redis.
      const [applied, marker] = await Promise.all([readChecked(bounds.map((b) => b.field)), readRepair(redis, namespace)]);
      const verdict = checkContinuity(bounds, applied);
      if (verdict.resets[0]) throw resetFault(verdict.resets[0]);
      if (verdict.gaps.length === 0) return { kept: new Set(verdict.ok), marker, applied };
      if (!alone) throw new RepairNeeded(`a gap in ${verdict.gaps.map((g) => g.field).join(', ')} while other rounds are in flight`);
      const fresh = verdict.gaps.filter((gap) => sought.get(gap.field) !== gap.from);
      for (const gap of verdict.gaps.filter((g) => sought.get(g.field) === g.from)) await checkHistoryHeld(gap.field, gap.from);
      if (fresh.length > 0) {
        const reason = `Redis's state ends before what was already consumed (${fresh.map((g) => `${g.field} applied up to ${g.from - 1n}, next batch at ${g.firstOffset}`).join('; ')}): Redis went back in time`;
        await repair(reason, new Map(fresh.map((g) => [g.field, g.firstOffset - 1n])));
      }
      for (const gap of verdict.gaps) seek(gap.field, gap.from);
      return { kept: new Set(verdict.ok), marker, applied };
    },

    /**
     * On an assignment: each partition is sought to its applied offset + 1. If the group's
     * committed offsets are past that (Redis lost applied events: it went back in time), OpenSearch
     * is first brought back to Redis's state. Returns the applied offsets.
     */
    async checkAssignment(fields: readonly string[]): Promise<Map<string, bigint>> {
      const admin = options.kafka.admin();
      await admin.connect();
      try {
        // Committed first, applied after: applied only grows, so a committed offset past it is a loss.
        const committed = new Map<string, bigint>();
        for (const { topic, partitions } of await admin.fetchOffsets({ groupId: options.groupId, topics: [...options.eventTopics] }))
          for (const { partition, offset } of partitions) if (BigInt(offset) > 0n) committed.set(`${topic}:${partition}`, BigInt(offset));
        const applied = await readChecked(fields);
        const lost = fields.filter((f) => (committed.get(f) ?? 0n) - 1n > (applied.get(f) ?? -1n));
        if (lost.length > 0) {
          const reason = `Redis's state ends before what was already projected (${lost.map((f) => `${f} applied up to ${applied.get(f) ?? -1n}, projected up to ${committed.get(f)! - 1n}`).join('; ')}): Redis went back in time`;
          await repair(reason, new Map(lost.map((f) => [f, committed.get(f)! - 1n])));
        }
        for (const field of fields) seek(field, (applied.get(field) ?? -1n) + 1n);
        return applied;
      } finally {
        await admin.disconnect();
      }
    },

    /** Once the replay after a rollback repair has passed what the lost stretch had reached, the marker goes. */
    async settleRepair(marker: RepairMarker | null, applied: Map<string, bigint>): Promise<void> {
      if (marker?.code !== 'redis_behind' || marker.phase !== 'replaying' || marker.generation !== space.generation) return;
      const all = await options.store().applied();
      for (const [field, offset] of applied) if ((all.get(field) ?? -1n) < offset) all.set(field, offset);
      if (Object.entries(marker.target ?? {}).every(([field, offset]) => (all.get(field) ?? -1n) >= BigInt(offset))) {
        await clearRepair(redis, namespace);
        logger.info({ generation: space.generation }, 'the events Redis lost are replayed; repair done');
      }
    },
  };
}

export type StateGuard = ReturnType<typeof createStateGuard>;
