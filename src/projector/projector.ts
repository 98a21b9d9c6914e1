/**
 * The projector: a kafkajs consumer group over the four topics. Per batch: decode (poison to the
 * dead-letter topic), project (Redis commit, OpenSearch write), mark the position for publishing,
 * then commit the Kafka offset. Outages pause the batch and retry with backoff; nothing is lost or
 * doubled because every step is idempotent and fenced.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { decodeEvent } from '../../schemas/decode.ts';
import type { Config } from '../config.ts';
import { AppError, retryClass } from '../errors.ts';
import { type GenerationIdentity, readIdentity } from '../generation.ts';
import { checkContinuity, splitField } from '../integrity/continuity.ts';
import { IntegrityFault } from '../integrity/fault.ts';
import { clearRepair, readRepair, type RepairMarker } from '../integrity/repair-state.ts';
import { repairRollback } from '../integrity/rollback-repair.ts';
import { versionOffset } from '../integrity/versions.ts';
import { CoPartitionedAssigner } from '../kafka/co-partition-assigner.ts';
import { eventTopics, logicalTopics } from '../kafka/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { createOpenSearchDocuments } from '../opensearch/documents.ts';
import { createAccountStore, unwrap } from '../redis/account-store.ts';
import { type KeySpace, generationKeys } from '../redis/keys.ts';
import { retry } from '../retry.ts';
import { createAccountCache } from './account-cache.ts';
import { createLagMonitor } from './lag-monitor.ts';
import { type PoisonMessage, sendToDeadLetter } from './dead-letter.ts';
import type { PositionedEvent } from './plan-batch.ts';
import { createPositionPublisher } from './positions.ts';
import { createWriteGate } from './write-gate.ts';
import { type BatchPart, projectBatch } from './project-batch.ts';

export interface ProjectorDeps {
  kafka: Kafka;
  redis: Redis;
  opensearch: Client;
  config: Pick<Config, 'topics' | 'namespace' | 'dedupeWindowMs'> & Partial<Pick<Config, 'sessionTimeoutMs' | 'publishIntervalMs' | 'maxBytesPerPartition'>>;
  space: KeySpace;
  /** the OpenSearch indices of the generation this projector writes */
  indices: { users: string; facts: string };
  /**
   * what the projector writes through: the indices' write aliases (src/generation.ts), so that a
   * deleted index fails the write instead of coming back empty; default: the indices themselves
   */
  writeTargets?: { users: string; facts: string };
  /** told when the stores disagree in a way the projector cannot repair itself (it stops consuming) */
  onFault?: (fault: IntegrityFault) => void;
  logger: Logger;
  metrics?: Metrics;
  /** consumer group id; default `<namespace>-projector-<generation>` */
  groupId?: string;
  /** how often positions are published (refresh + raise); default 200 ms */
  publishIntervalMs?: number;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  maxBulkBytes?: number;
  /** user documents derived per Redis commit at most (default WORK_PER_COMMIT; tests set it low) */
  workPerCommit?: number;
}

/** kafkajs workers: at least the partitions one projector owns (4 topics × their partitions). */
export const PARTITIONS_IN_FLIGHT = 64;

export type ProjectorState = 'idle' | 'starting' | 'running' | 'degraded' | 'faulted' | 'stopping' | 'stopped';

export function createProjector(deps: ProjectorDeps) {
  const { kafka, opensearch, config, logger, metrics } = deps;
  // A connection of its own that never queues a command while disconnected: a Redis that comes
  // back may hold an older state, and nothing may be read or written on it before the guard of the
  // next attempt has looked at it (the store's fence). (ioredis resends the commands in flight after a reconnect; that is safe here: a resent commit
  // carries the account version it was computed from, and a resent applied raise must continue its
  // partition, both checked in Redis itself.)
  const redis = deps.redis.duplicate({ enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', (error) => logger.debug({ err: error }, 'projector redis connection error'));
  /** bumped whenever the connection closes; the guard records the one it checked */
  let connection = 0;
  let checkedConnection = -1;
  const fence = () => {
    if (checkedConnection !== connection || redis.status !== 'ready')
      throw new AppError('redis_unavailable', 'the Redis connection was re-established since its state was checked', { retriable: true });
  };
  const store = createAccountStore(redis, deps.space, { fence });
  const cache = createAccountCache(store, config.dedupeWindowMs);
  const genKeys = generationKeys(deps.space);
  let identity: GenerationIdentity | undefined;
  let epoch = 0;
  let fault: IntegrityFault | undefined;
  /** partitions sought back to their applied offset + 1, and that offset */
  const sought = new Map<string, bigint>();
  redis.on('close', () => {
    connection += 1;
    // What is cached was read from the old connection. (Pending positions stay: they record writes
    // that were made; a rollback repair discards them and lowers the published ones.)
    cache.clear();
  });
  const topics = logicalTopics(config.topics);
  const targets = deps.writeTargets ?? deps.indices;
  const gate = createWriteGate();
  const publisher = createPositionPublisher({
    gate,
    onFault: (f) => enterFault(f),
    opensearch,
    index: () => `${targets.users},${targets.facts}`,
    checkpoints: { indices: () => [targets.users, targets.facts], requireAlias: deps.writeTargets !== undefined },
    store,
    intervalMs: deps.publishIntervalMs ?? config.publishIntervalMs ?? 200,
    logger,
    ...(metrics ? { metrics } : {}),
    onHealth: (ok) => {
      publishFailing = !ok;
      refreshReady();
    },
  });
  // One group per generation: a rebuild fills the next generation under the group that the live
  // projectors join after the swap, so they continue from where the rebuild got.
  const groupId = deps.groupId ?? projectorGroupId(config.namespace, deps.space.generation);
  const eventTopicNames = eventTopics(config.topics);
  const lagMonitor = metrics ? createLagMonitor({ kafka, topics: eventTopicNames, store, metrics, logger }) : undefined;
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  let state: ProjectorState = 'idle';
  let lastError: { at: string; message: string } | undefined;
  const abort = new AbortController();

  /** Steps now waiting for a dependency: while any is, the projector is not ready. */
  let waiting = 0;
  let publishFailing = false;
  let consumerDown = false;
  const effectiveState = (): ProjectorState => (fault ? 'faulted' : state === 'running' && (waiting > 0 || publishFailing || consumerDown) ? 'degraded' : state);
  const refreshReady = () => metrics?.ready.set({ component: 'projector' }, effectiveState() === 'running' ? 1 : 0);
  const setState = (next: ProjectorState) => {
    state = next;
    refreshReady();
  };

  /** Retries an outage-prone step until it works or the projector stops, heartbeating meanwhile. */
  async function patiently<T>(what: string, fn: () => Promise<T>, payload?: Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>): Promise<T> {
    let failing = false;
    try {
      return await retry(fn, {
        retries: Number.POSITIVE_INFINITY,
        baseMs: 200,
        maxMs: 5_000,
        signal: abort.signal,
        retriable: (error) => !abort.signal.aborted && (payload ? payload.isRunning() && !payload.isStale() : true) && retryClass(error) !== 'permanent',
        onRetry: (error, attempt, delayMs) => {
          if (!failing) {
            failing = true;
            waiting += 1;
            refreshReady();
          }
          lastError = { at: new Date().toISOString(), message: `${what}: ${(error as Error).message}` };
          logger.warn({ err: error, attempt, delayMs, step: what }, 'step failed; retrying');
          payload?.heartbeat().catch(() => undefined);
        },
      });
    } finally {
      if (failing) {
        waiting -= 1;
        refreshReady();
      }
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const field = `${batch.topic}:${batch.partition}`;
    const logical = topics.get(batch.topic);
    const byAccount = new Map<string, PositionedEvent[]>();
    const poison: PoisonMessage[] = [];
    for (const m of batch.messages) {
      const decoded = decodeEvent({ key: m.key, value: m.value, ...(logical ? { topic: logical } : {}) });
      if (!decoded.ok) {
        poison.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, code: decoded.code, reason: decoded.reason });
        continue;
      }
      const list = byAccount.get(decoded.event.accountid) ?? [];
      list.push({ event: { ...decoded.event, logMs: Number(m.timestamp) }, offset: BigInt(m.offset) });
      byAccount.set(decoded.event.accountid, list);
    }
    if (poison.length > 0) {
      await patiently('dead-letter', () => sendToDeadLetter(producer!, config.topics.deadLetter, poison), payload);
      for (const p of poison) metrics?.deadLetters.inc({ code: p.code });
      logger.warn({ count: poison.length, field, reasons: poison.slice(0, 5).map((p) => `${p.offset}: ${p.reason}`) }, 'poison messages sent to the dead-letter topic');
    }
    const last = batch.messages[batch.messages.length - 1]!.offset;
    await new Promise<void>((resolve, reject) => {
      if (!gathering) {
        const group: Gathered[] = [];
        gathering = group;
        // kafkajs hands the batches of one fetch to its workers in the same turn of the event loop
        // (partitionsConsumedConcurrently of them): they are projected together on the next turn.
        setImmediate(() => {
          gathering = undefined;
          void projectGroup(group);
        });
      }
      gathering.push({ part: { source: { topic: batch.topic, partition: batch.partition }, byAccount }, payload, field, last, resolve, reject });
    });
  }

  interface Gathered {
    part: BatchPart;
    payload: EachBatchPayload;
    field: string;
    last: string;
    resolve: () => void;
    reject: (error: unknown) => void;
  }

  /** What every projection needs; a group adds metrics, limits, heartbeat and applied positions. */
  const batchDeps = {
    store,
    cache,
    documents: createOpenSearchDocuments(opensearch),
    indices: () => targets,
    windowMs: config.dedupeWindowMs,
    logger,
    versionOffset: () => versionOffset(epoch),
    requireAlias: deps.writeTargets !== undefined,
    afterWrite: checkEpoch,
    gate,
  };

  /**
   * After a bulk write: if another member raised the epoch meanwhile (it repaired a rollback), the
   * write may have been refused as stale; failing here keeps the outbox, and the retry writes it
   * again with the new epoch.
   */
  async function checkEpoch(): Promise<void> {
    const now = Number((await redis.hget(genKeys.identity, 'epoch')) ?? 0);
    if (now !== epoch) {
      epoch = Math.max(epoch, now);
      throw new AppError('store_conflict', `the generation's epoch changed to ${now} during the write`, { retriable: true });
    }
  }

  /**
   * Before every attempt at a group: Redis still holds this generation (its identity), the epoch is
   * current, and every batch continues its partition where Redis's state ends (src/integrity/
   * continuity.ts). A gap means Redis lost events it had applied: OpenSearch is brought back to
   * Redis's state and the partition is read again from there. Returns the batches to project
   * and the repair marker seen.
   */
  async function guard(group: readonly Gathered[]): Promise<{ kept: Gathered[]; marker: RepairMarker | null; applied: Map<string, bigint> }> {
    const applied = await readChecked(group.map((g) => g.field));
    const marker = await readRepair(redis, config.namespace);
    const verdict = checkContinuity(
      group.map((g) => ({ field: g.field, firstOffset: BigInt(g.payload.batch.firstOffset() ?? g.last), highWatermark: BigInt(g.payload.batch.highWatermark) })),
      applied,
    );
    const reset = verdict.resets[0];
    if (reset) {
      const { topic, partition } = splitField(reset.field);
      throw new IntegrityFault(
        'topic_reset',
        `topic ${topic} partition ${partition} ends at offset ${reset.highWatermark - 1n}, but the state has applied its events up to offset ${reset.applied}: the topic was deleted and recreated, so its offsets no longer name the events the state was built from`,
      );
    }
    if (verdict.gaps.length === 0) return { kept: [...group], marker, applied };
    const fresh = verdict.gaps.filter((gap) => sought.get(gap.field) !== gap.from);
    for (const gap of verdict.gaps.filter((g) => sought.get(g.field) === g.from)) await checkHistoryHeld(gap.field, gap.from);
    if (fresh.length > 0) {
      const reason = `Redis's state ends before what was already consumed (${fresh.map((g) => `${g.field} applied up to ${g.from - 1n}, next batch at ${g.firstOffset}`).join('; ')}): Redis went back in time`;
      await repairFromRedis(reason, new Map(fresh.map((g) => [g.field, g.firstOffset - 1n])));
    }
    for (const gap of verdict.gaps) {
      const { topic, partition } = splitField(gap.field);
      sought.set(gap.field, gap.from);
      consumer!.seek({ topic, partition, offset: gap.from.toString() });
    }
    const gapFields = new Set(verdict.gaps.map((g) => g.field));
    return { kept: group.filter((g) => !gapFields.has(g.field)), marker, applied };
  }

  /** A partition sought back that still starts later: has the topic lost the events in between? */
  async function checkHistoryHeld(field: string, from: bigint): Promise<void> {
    const { topic, partition } = splitField(field);
    const admin = kafka.admin();
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

  /** Once the replay after a rollback repair has passed what the lost stretch had reached, the marker goes. */
  async function settleRepair(marker: RepairMarker | null, applied: Map<string, bigint>): Promise<void> {
    if (marker?.code !== 'redis_behind' || marker.phase !== 'replaying' || marker.generation !== deps.space.generation) return;
    const all = await store.applied();
    for (const [field, offset] of applied) if ((all.get(field) ?? -1n) < offset) all.set(field, offset);
    if (Object.entries(marker.target ?? {}).every(([field, offset]) => (all.get(field) ?? -1n) >= BigInt(offset))) {
      await clearRepair(redis, config.namespace);
      logger.info({ generation: deps.space.generation }, 'the events Redis lost are replayed; repair done');
    }
  }

  function enterFault(error: IntegrityFault): void {
    if (fault) return;
    fault = error;
    lastError = { at: new Date().toISOString(), message: error.message };
    logger.error({ fault: error.code, reason: error.message }, 'the stores disagree; the projector stops consuming');
    consumer?.pause(eventTopicNames.map((topic) => ({ topic })));
    refreshReady();
    deps.onFault?.(error);
  }

  /** Batches waiting for the next turn of the event loop, to be projected as one. */
  let gathering: Gathered[] | undefined;

  /**
   * Projects the batches of one fetch together: one Redis commit per account and partition as
   * before, but one bulk stream, one outbox clear and one offset commit for them all. Under a
   * trickle a fetch holds a few events on each of many partitions, and those per-batch round trips
   * were most of the cost (docs/benchmarks-journal.md, freshness). Each batch's eachBatch settles
   * with the group.
   */
  async function projectGroup(all: Gathered[]): Promise<void> {
    const started = performance.now();
    // Batches fetched before the assignment's seek (or any later one) are stale: kafkajs fetches
    // their partitions again from the sought offset. They settle without being projected.
    await joined;
    const group = all.filter((g) => !g.payload.isStale());
    // The retries stop when the consumer stops or any partition of the group was taken away.
    const control = {
      heartbeat: () => (group[0] ?? all[0]!).payload.heartbeat(),
      isRunning: () => group.every((g) => g.payload.isRunning()),
      isStale: () => group.some((g) => g.payload.isStale()),
    };
    try {
      if (fault || group.length === 0) {
        for (const g of all) g.resolve();
        return;
      }
      const { kept, outcome, marker } = await patiently(
        'project',
        async () => {
          const checked = await guard(group);
          const applied = new Map(checked.kept.map((g) => [g.field, { from: BigInt(g.payload.batch.firstOffset() ?? g.last), to: BigInt(g.last) }]));
          const result = await projectBatch(
            {
              ...batchDeps,
              ...(metrics ? { metrics } : {}),
              ...(deps.maxBulkBytes ? { maxBulkBytes: deps.maxBulkBytes } : {}),
              ...(deps.workPerCommit ? { workPerCommit: deps.workPerCommit } : {}),
              heartbeat: control.heartbeat,
              onCommitted: () => store.raiseApplied(applied),
              gate,
              // Marked inside the gate, with the write: the next refresh shows exactly these.
              onWritten: (written) => {
                for (const g of checked.kept) publisher.mark(g.field, BigInt(g.last), written.newestByField.get(g.field) ?? 0);
              },
            },
            checked.kept.map((g) => g.part),
          );
          return { kept: checked.kept, outcome: result, marker: checked.marker };
        },
        control,
      );
      for (const g of kept) g.payload.resolveOffset(g.last);
      await settleRepair(marker, new Map(kept.map((g) => [g.field, BigInt(g.last)])));
      const offsets = kept.map((g) => ({ topic: g.part.source.topic, partition: g.part.source.partition, offset: (BigInt(g.last) + 1n).toString() }));
      if (offsets.length > 0)
        await patiently('commit offsets', () => consumer!.commitOffsets(offsets), control).catch((error) => {
          // A rebalance took a partition: the next owner starts at the last commit and skips what
          // Redis says is applied.
          logger.info({ err: error, fields: group.map((g) => g.field) }, 'offset commit skipped');
        });
      metrics?.batchSeconds.observe((performance.now() - started) / 1000);
      const { newestByField, ...counts } = outcome;
      logger.debug(
        {
          fields: group.map((g) => g.field),
          messages: group.reduce((n, g) => n + g.payload.batch.messages.length, 0),
          ...counts,
          newestMs: Math.max(0, ...newestByField.values()),
        },
        'batches projected',
      );
      for (const g of all) g.resolve();
    } catch (error) {
      if (error instanceof IntegrityFault) {
        enterFault(error);
        for (const g of all) g.resolve();
        return;
      }
      for (const g of all) g.reject(error);
    }
  }

  /** Settles once the latest assignment is checked and sought; projection waits for it. */
  let joined: Promise<void> = Promise.resolve();

  /**
   * On every assignment, Redis decides where consumption continues: each assigned partition is
   * sought to its applied offset + 1. If the group's committed offsets are past that (Redis lost
   * applied events: it went back in time), OpenSearch is first brought back to Redis's state
   * (src/integrity/rollback-repair.ts). Then the positions known to be written are published
   * (a projector can die between writing a batch and publishing it): per partition the committed
   * offset, never past the applied one.
   */
  async function onAssignment(assignment: Record<string, number[]>): Promise<void> {
    const fields = eventTopicNames.flatMap((topic) => (assignment[topic] ?? []).map((p) => `${topic}:${p}`));
    if (fields.length === 0) return;
    await patiently('check the assignment', async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        // Committed first, applied after: applied only grows, so a committed offset past it is a loss.
        const committed = new Map<string, bigint>();
        for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: eventTopicNames }))
          for (const { partition, offset } of partitions) if (BigInt(offset) > 0n) committed.set(`${topic}:${partition}`, BigInt(offset));
        const applied = await readChecked(fields);
        const lost = fields.filter((f) => (committed.get(f) ?? 0n) - 1n > (applied.get(f) ?? -1n));
        if (lost.length > 0) {
          const reason = `Redis's state ends before what was already projected (${lost.map((f) => `${f} applied up to ${applied.get(f) ?? -1n}, projected up to ${committed.get(f)! - 1n}`).join('; ')}): Redis went back in time`;
          await repairFromRedis(reason, new Map(lost.map((f) => [f, committed.get(f)! - 1n])));
        }
        for (const field of fields) {
          const { topic, partition } = splitField(field);
          const from = (applied.get(field) ?? -1n) + 1n;
          sought.set(field, from);
          consumer!.seek({ topic, partition, offset: from.toString() });
        }
        // Once no outbox is left, everything applied is written: a projector killed between its
        // Redis commit and its position publish leaves nothing unpublished behind.
        await recoverOutbox();
        for (const field of fields) if ((applied.get(field) ?? -1n) >= 0n) publisher.mark(field, applied.get(field)!, 0);
      } finally {
        await admin.disconnect();
      }
    });
  }

  /**
   * Reads the applied offsets of `fields` after checking that Redis still holds this generation
   * (its identity) and taking its epoch; records the connection as checked (the store's fence).
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
        `Redis no longer holds generation ${deps.space.generation} of namespace ${config.namespace} (its identity is ${id ? 'another one' : 'gone'}): Redis was emptied or replaced`,
      );
    checkedConnection = seen;
    epoch = Math.max(epoch, Number(epochNow ?? 0));
    const applied = new Map<string, bigint>();
    fields.forEach((f, i) => appliedRaw[i] != null && applied.set(f, BigInt(appliedRaw[i])));
    return applied;
  }

  /** The rollback repair, with what the projector holds in memory dropped around it. */
  async function repairFromRedis(reason: string, target: Map<string, bigint>): Promise<void> {
    publisher.discard();
    metrics?.integrityRepairs.inc({ fault: 'redis_behind' });
    epoch = await repairRollback({ redis, opensearch, store, space: deps.space, indices: deps.indices, windowMs: config.dedupeWindowMs, logger }, reason, target);
    cache.clear();
  }

  /** Writes the documents that a crash left in the outbox of any account. */
  async function recoverOutbox(): Promise<void> {
    const accounts = await store.dirtyAccounts();
    for (const accountId of accounts)
      await patiently('recover outbox', () => projectBatch(batchDeps, [{ source: { topic: '', partition: -1 }, byAccount: new Map([[accountId, []]]) }]));
    if (accounts.length > 0) logger.info({ accounts: accounts.length }, 'outbox recovered');
  }

  return {
    store,
    groupId,
    status: () => ({
      state: effectiveState(),
      waitingSteps: waiting,
      publishFailing,
      lastError,
      cachedAccounts: cache.size(),
      ...(fault ? { fault: { code: fault.code, reason: fault.message } } : {}),
    }),
    fault: () => fault,

    async start(): Promise<void> {
      setState('starting');
      await patiently('connect redis', async () => {
        if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
        if (redis.status !== 'ready') throw new AppError('redis_unavailable', `Redis is ${redis.status}`, { retriable: true });
      });
      identity = (await readIdentity(redis, deps.space)) ?? undefined;
      if (!identity) throw new IntegrityFault('redis_lost', `Redis has no state for generation ${deps.space.generation} of namespace ${config.namespace}`);
      epoch = identity.epoch;
      checkedConnection = connection;
      // Dead letters are at least once (a retried send may repeat one; the headers name the original
      // topic, partition and offset, which identify it). Our own retry loop is in charge of outages.
      producer = kafka.producer({ allowAutoTopicCreation: false });
      await patiently('connect producer', () => producer!.connect());
      await recoverOutbox();
      consumer = kafka.consumer({
        groupId,
        partitionAssigners: [CoPartitionedAssigner],
        sessionTimeout: config.sessionTimeoutMs ?? 30_000,
        rebalanceTimeout: Math.max(60_000, config.sessionTimeoutMs ?? 0),
        heartbeatInterval: 3_000,
        maxBytesPerPartition: config.maxBytesPerPartition ?? 4 * 1024 * 1024,
        allowAutoTopicCreation: false,
      });
      consumer.on(consumer.events.CRASH, (e) => {
        lastError = { at: new Date().toISOString(), message: `consumer crashed: ${e.payload.error.message}` };
        logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
        consumerDown = !e.payload.restart;
        refreshReady();
      });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        logger.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined the consumer group');
        joined = onAssignment(e.payload.memberAssignment).catch((error: unknown) => {
          if (error instanceof IntegrityFault) enterFault(error);
          else logger.warn({ err: error }, 'could not check the assignment');
        });
      });
      await patiently('connect consumer', () => consumer!.connect());
      await consumer.subscribe({ topics: eventTopicNames, fromBeginning: deps.fromBeginning ?? true });
      publisher.start();
      lagMonitor?.start();
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Every batch of a fetch at once, so that projectGroup gathers them all (workers only wait).
        partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently ?? PARTITIONS_IN_FLIGHT,
        eachBatch,
      });
      setState('running');
      logger.info({ groupId, indices: deps.indices, generation: deps.space.generation }, 'projector running');
    },

    /** Finishes the batch in hand, publishes positions, leaves the group. */
    async stop(): Promise<void> {
      if (state === 'stopped' || state === 'stopping') return;
      setState('stopping');
      abort.abort();
      await consumer?.disconnect().catch((error) => logger.warn({ err: error }, 'consumer disconnect failed'));
      await publisher.stop();
      await lagMonitor?.stop();
      await producer?.disconnect().catch(() => undefined);
      redis.disconnect();
      setState('stopped');
      logger.info('projector stopped');
    },
  };
}

export type Projector = ReturnType<typeof createProjector>;

/** The consumer group of a generation's projectors. */
export function projectorGroupId(namespace: string, generation: string): string {
  return `${namespace}-projector-${generation}`;
}
