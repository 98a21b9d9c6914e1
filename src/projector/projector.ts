/**
 * The projector: a kafkajs consumer group over the four topics. Per batch: decode (poison to the
 * dead-letter topic), project (Redis commit, OpenSearch write), mark the position for publishing,
 * then commit the Kafka offset. Outages pause the batch and retry with backoff; nothing is lost or
 * doubled because every step is idempotent and fenced.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { splitField } from '../integrity/continuity.ts';
import { IntegrityFault } from '../integrity/fault.ts';
import { repairRollback } from '../integrity/rollback-repair.ts';
import { versionOffset } from '../integrity/versions.ts';
import { CoPartitionedAssigner } from '../kafka/co-partition-assigner.ts';
import { eventTopics, logicalTopics } from '../kafka/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { createOpenSearchDocuments } from '../opensearch/documents.ts';
import { createAccountStore } from '../redis/account-store.ts';
import type { KeySpace } from '../redis/keys.ts';
import { createAccountCache } from './account-cache.ts';
import { sendToDeadLetter } from './dead-letter.ts';
import { type Gathered, createGatherer, decodeBatch } from './fetch-gatherer.ts';
import { createProjectorHealth } from './health.ts';
import { createLagMonitor } from './lag-monitor.ts';
import { type BatchControl, createPatience } from './patience.ts';
import { createPositionPublisher } from './positions.ts';
import { type BatchDeps, projectBatch } from './project-batch.ts';
import { createStateGuard } from './state-guard.ts';
import { createWriteGate } from './write-gate.ts';

export interface ProjectorDeps {
  kafka: Kafka;
  redis: Redis;
  opensearch: Client;
  config: Pick<Config, 'topics' | 'namespace' | 'dedupeWindowMs'> & Partial<Pick<Config, 'sessionTimeoutMs' | 'publishIntervalMs' | 'maxBytesPerPartition' | 'accountCacheBytes'>>;
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

// A composition root: each step it wires is its own small unit (health, patience, state guard,
// fetch gatherer, projectBatch, position publisher); what is left here is their wiring and the
// consumer's lifecycle, which share the consumer, the cache and the publisher.
// eslint-disable-next-line max-lines-per-function -- the factory's inner functions are each short
export function createProjector(deps: ProjectorDeps) {
  const { kafka, opensearch, config, logger, metrics } = deps;
  // A connection of its own that never queues a command while disconnected: a Redis that comes
  // back may hold an older state, and nothing may be read or written on it before the guard of the
  // next attempt has looked at it (the store's fence). (ioredis resends the commands in flight after a reconnect; that is safe here: a resent commit
  // carries the account version it was computed from, and a resent applied raise must continue its
  // partition, both checked in Redis itself.)
  const redis = deps.redis.duplicate({ enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', (error) => logger.debug({ err: error }, 'projector redis connection error'));
  const health = createProjectorHealth(metrics);
  const abort = new AbortController();
  const patiently = createPatience({ signal: abort.signal, logger, health });
  // One group per generation: a rebuild fills the next generation under the group that the live
  // projectors join after the swap, so they continue from where the rebuild got.
  const groupId = deps.groupId ?? projectorGroupId(config.namespace, deps.space.generation);
  const eventTopicNames = eventTopics(config.topics);
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  const guard = createStateGuard({
    redis,
    kafka,
    space: deps.space,
    namespace: config.namespace,
    groupId,
    eventTopics: eventTopicNames,
    store: () => store,
    logger,
    // What is cached was read from the old connection. (Pending positions stay: they record writes
    // that were made; a rollback repair discards them and lowers the published ones.)
    onReconnect: () => cache.clear(),
    seek: (field, offset) => consumer!.seek({ ...splitField(field), offset: offset.toString() }),
    repair: repairFromRedis,
  });
  const store = createAccountStore(redis, deps.space, { fence: guard.fence });
  const cache = createAccountCache(store, config.dedupeWindowMs, {
    ...(config.accountCacheBytes ? { budgetBytes: config.accountCacheBytes } : {}),
    onEvict: () => metrics?.accountsEvicted.inc(),
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
    onHealth: (ok) => health.publishing(ok),
  });
  const lagMonitor = metrics ? createLagMonitor({ kafka, topics: eventTopicNames, store, metrics, logger }) : undefined;
  const gather = createGatherer(projectGroup);

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const field = `${batch.topic}:${batch.partition}`;
    const { byAccount, poison } = decodeBatch(batch, topics.get(batch.topic));
    if (poison.length > 0) {
      await patiently('dead-letter', () => sendToDeadLetter(producer!, config.topics.deadLetter, poison), payload);
      for (const p of poison) metrics?.deadLetters.inc({ code: p.code });
      logger.warn({ count: poison.length, field, reasons: poison.slice(0, 5).map((p) => `${p.offset}: ${p.reason}`) }, 'poison messages sent to the dead-letter topic');
    }
    const last = batch.messages[batch.messages.length - 1]!.offset;
    await gather({ part: { source: { topic: batch.topic, partition: batch.partition }, byAccount }, payload, field, last });
  }

  /** What every projection needs; a group adds metrics, limits, heartbeat and applied positions. */
  const batchDeps: BatchDeps = {
    store,
    cache,
    documents: createOpenSearchDocuments(opensearch),
    indices: () => targets,
    windowMs: config.dedupeWindowMs,
    logger,
    versionOffset: () => versionOffset(guard.epoch()),
    requireAlias: deps.writeTargets !== undefined,
    afterWrite: guard.checkEpoch,
    gate,
    ...(metrics ? { metrics } : {}),
    ...(deps.maxBulkBytes ? { maxBulkBytes: deps.maxBulkBytes } : {}),
    ...(deps.workPerCommit ? { workPerCommit: deps.workPerCommit } : {}),
  };

  function enterFault(error: IntegrityFault): void {
    if (!health.enterFault(error)) return;
    logger.error({ fault: error.code, reason: error.message }, 'the stores disagree; the projector stops consuming');
    consumer?.pause(eventTopicNames.map((topic) => ({ topic })));
    deps.onFault?.(error);
  }

  /** One attempt at a group: the guard's checks, then projectBatch over the batches kept. */
  async function attempt(group: readonly Gathered[], control: BatchControl) {
    const checked = await guard.checkGroup(group);
    const applied = new Map(checked.kept.map((g) => [g.field, { from: BigInt(g.payload.batch.firstOffset() ?? g.last), to: BigInt(g.last) }]));
    const outcome = await projectBatch(
      {
        ...batchDeps,
        heartbeat: control.heartbeat,
        onCommitted: () => store.raiseApplied(applied),
        // Marked inside the gate, with the write: the next refresh shows exactly these.
        onWritten: (written) => {
          for (const g of checked.kept) publisher.mark(g.field, BigInt(g.last), written.newestByField.get(g.field) ?? 0);
        },
      },
      checked.kept.map((g) => g.part),
    );
    return { kept: checked.kept, outcome, marker: checked.marker };
  }

  /** After a group is projected: resolve and commit its offsets, settle a repair, log. */
  async function finish(group: readonly Gathered[], result: Awaited<ReturnType<typeof attempt>>, control: BatchControl, started: number): Promise<void> {
    const { kept, outcome, marker } = result;
    for (const g of kept) g.payload.resolveOffset(g.last);
    await guard.settleRepair(marker, new Map(kept.map((g) => [g.field, BigInt(g.last)])));
    const offsets = kept.map((g) => ({ topic: g.part.source.topic, partition: g.part.source.partition, offset: (BigInt(g.last) + 1n).toString() }));
    if (offsets.length > 0)
      await patiently('commit offsets', () => consumer!.commitOffsets(offsets), control).catch((error) => {
        // A rebalance took a partition: the next owner starts at the last commit and skips what
        // Redis says is applied.
        logger.info({ err: error, fields: group.map((g) => g.field) }, 'offset commit skipped');
      });
    metrics?.batchSeconds.observe((performance.now() - started) / 1000);
    const { newestByField, ...counts } = outcome;
    const messages = group.reduce((n, g) => n + g.payload.batch.messages.length, 0);
    logger.debug({ fields: group.map((g) => g.field), messages, ...counts, newestMs: Math.max(0, ...newestByField.values()) }, 'batches projected');
  }

  /**
   * Projects the batches of one fetch together (src/projector/fetch-gatherer.ts); each batch's
   * eachBatch settles with the group. Retried while the stores are out; a fault stops consuming.
   */
  async function projectGroup(all: Gathered[]): Promise<void> {
    const started = performance.now();
    // Batches fetched before the assignment's seek (or any later one) are stale: kafkajs fetches
    // their partitions again from the sought offset. They settle without being projected.
    await joined;
    const group = all.filter((g) => !g.payload.isStale());
    // The retries stop when the consumer stops or any partition of the group was taken away.
    const control: BatchControl = {
      heartbeat: () => (group[0] ?? all[0]!).payload.heartbeat(),
      isRunning: () => group.every((g) => g.payload.isRunning()),
      isStale: () => group.some((g) => g.payload.isStale()),
    };
    try {
      if (!health.fault() && group.length > 0) await finish(group, await patiently('project', () => attempt(group, control), control), control, started);
      for (const g of all) g.resolve();
    } catch (error) {
      if (!(error instanceof IntegrityFault)) {
        for (const g of all) g.reject(error);
        return;
      }
      enterFault(error);
      for (const g of all) g.resolve();
    }
  }

  /** Settles once the latest assignment is checked and sought; projection waits for it. */
  let joined: Promise<void> = Promise.resolve();

  /**
   * On every assignment, Redis decides where consumption continues (the guard's checkAssignment).
   * Then the positions known to be written are published (a projector can die between writing a
   * batch and publishing it): per partition the applied offset, once no outbox is left.
   */
  async function onAssignment(assignment: Record<string, number[]>): Promise<void> {
    const fields = eventTopicNames.flatMap((topic) => (assignment[topic] ?? []).map((p) => `${topic}:${p}`));
    if (fields.length === 0) return;
    await patiently('check the assignment', async () => {
      const applied = await guard.checkAssignment(fields);
      // Once no outbox is left, everything applied is written: a projector killed between its
      // Redis commit and its position publish leaves nothing unpublished behind.
      await recoverOutbox();
      for (const field of fields) if ((applied.get(field) ?? -1n) >= 0n) publisher.mark(field, applied.get(field)!, 0);
    });
  }

  /** The rollback repair, with what the projector holds in memory dropped around it. */
  async function repairFromRedis(reason: string, target: Map<string, bigint>): Promise<number> {
    publisher.discard();
    metrics?.integrityRepairs.inc({ fault: 'redis_behind' });
    const epoch = await repairRollback({ redis, opensearch, store, space: deps.space, indices: deps.indices, windowMs: config.dedupeWindowMs, logger }, reason, target);
    cache.clear();
    return epoch;
  }

  /** Writes the documents that a crash left in the outbox of any account. */
  async function recoverOutbox(): Promise<void> {
    const accounts = await store.dirtyAccounts();
    for (const accountId of accounts)
      await patiently('recover outbox', () => projectBatch(batchDeps, [{ source: { topic: '', partition: -1 }, byAccount: new Map([[accountId, []]]) }]));
    if (accounts.length > 0) logger.info({ accounts: accounts.length }, 'outbox recovered');
  }

  function createConsumer(): Consumer {
    const c = kafka.consumer({
      groupId,
      partitionAssigners: [CoPartitionedAssigner],
      sessionTimeout: config.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: Math.max(60_000, config.sessionTimeoutMs ?? 0),
      heartbeatInterval: 3_000,
      maxBytesPerPartition: config.maxBytesPerPartition ?? 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    c.on(c.events.CRASH, (e) => {
      health.error(`consumer crashed: ${e.payload.error.message}`);
      logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      health.consumerDown(!e.payload.restart);
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      logger.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined the consumer group');
      joined = onAssignment(e.payload.memberAssignment).catch((error: unknown) => {
        if (error instanceof IntegrityFault) enterFault(error);
        else logger.warn({ err: error }, 'could not check the assignment');
      });
    });
    return c;
  }

  return {
    store,
    groupId,
    status: () => ({ ...health.status(), cachedAccounts: cache.size() }),
    fault: () => health.fault(),

    async start(): Promise<void> {
      health.set('starting');
      await patiently('connect redis', async () => {
        if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
        if (redis.status !== 'ready') throw new AppError('redis_unavailable', `Redis is ${redis.status}`, { retriable: true });
      });
      await guard.adopt();
      // Dead letters are at least once (a retried send may repeat one; the headers name the original
      // topic, partition and offset, which identify it). Our own retry loop is in charge of outages.
      producer = kafka.producer({ allowAutoTopicCreation: false });
      await patiently('connect producer', () => producer!.connect());
      await recoverOutbox();
      consumer = createConsumer();
      await patiently('connect consumer', () => consumer!.connect());
      await consumer.subscribe({ topics: eventTopicNames, fromBeginning: deps.fromBeginning ?? true });
      publisher.start();
      lagMonitor?.start();
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Every batch of a fetch at once, so that the gatherer gathers them all (workers only wait).
        partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently ?? PARTITIONS_IN_FLIGHT,
        eachBatch,
      });
      health.set('running');
      logger.info({ groupId, indices: deps.indices, generation: deps.space.generation }, 'projector running');
    },

    /** Finishes the batch in hand, publishes positions, leaves the group. */
    async stop(): Promise<void> {
      if (health.state() === 'stopped' || health.state() === 'stopping') return;
      health.set('stopping');
      abort.abort();
      await consumer?.disconnect().catch((error) => logger.warn({ err: error }, 'consumer disconnect failed'));
      await publisher.stop();
      await lagMonitor?.stop();
      await producer?.disconnect().catch(() => undefined);
      redis.disconnect();
      health.set('stopped');
      logger.info('projector stopped');
    },
  };
}

export type Projector = ReturnType<typeof createProjector>;

/** The consumer group of a generation's projectors. */
export function projectorGroupId(namespace: string, generation: string): string {
  return `${namespace}-projector-${generation}`;
}
