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
import { CoPartitionedAssigner } from '../kafka/co-partition-assigner.ts';
import { logicalTopics } from '../kafka/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { createAccountStore } from '../redis/account-store.ts';
import type { KeySpace } from '../redis/keys.ts';
import { retry } from '../retry.ts';
import { createAccountCache } from './account-cache.ts';
import { createLagMonitor } from './lag-monitor.ts';
import { type PoisonMessage, sendToDeadLetter } from './dead-letter.ts';
import type { PositionedEvent } from './plan-batch.ts';
import { createPositionPublisher } from './positions.ts';
import { type BatchPart, projectBatch } from './project-batch.ts';

export interface ProjectorDeps {
  kafka: Kafka;
  redis: Redis;
  opensearch: Client;
  config: Pick<Config, 'topics' | 'namespace' | 'dedupeWindowMs'> & Partial<Pick<Config, 'sessionTimeoutMs' | 'publishIntervalMs' | 'maxBytesPerPartition'>>;
  space: KeySpace;
  /** the OpenSearch indices of the generation this projector writes */
  indices: { users: string; history: string; facts: string };
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

export type ProjectorState = 'idle' | 'starting' | 'running' | 'degraded' | 'stopping' | 'stopped';

export function createProjector(deps: ProjectorDeps) {
  const { kafka, opensearch, config, logger, metrics } = deps;
  const store = createAccountStore(deps.redis, deps.space);
  const cache = createAccountCache(store, config.dedupeWindowMs);
  const topics = logicalTopics(config.topics);
  const publisher = createPositionPublisher({
    opensearch,
    index: () => `${deps.indices.users},${deps.indices.history},${deps.indices.facts}`,
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
  const eventTopics = [config.topics.users, config.topics.roles, config.topics.queues, config.topics.inboxes];
  const lagMonitor = metrics ? createLagMonitor({ kafka, topics: eventTopics, store, metrics, logger }) : undefined;
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  let state: ProjectorState = 'idle';
  let lastError: { at: string; message: string } | undefined;
  const abort = new AbortController();

  /** Steps now waiting for a dependency: while any is, the projector is not ready. */
  let waiting = 0;
  let publishFailing = false;
  let consumerDown = false;
  const effectiveState = (): ProjectorState =>
    state === 'running' && (waiting > 0 || publishFailing || consumerDown) ? 'degraded' : state;
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
      retriable: (error) => !abort.signal.aborted && (payload ? payload.isRunning() && !payload.isStale() : true) && isWorthRetrying(error),
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
  const batchDeps = { store, cache, opensearch, indices: () => deps.indices, windowMs: config.dedupeWindowMs, logger };

  /** Batches waiting for the next turn of the event loop, to be projected as one. */
  let gathering: Gathered[] | undefined;

  /**
   * Projects the batches of one fetch together: one Redis commit per account and partition as
   * before, but one bulk stream, one outbox clear and one offset commit for them all. Under a
   * trickle a fetch holds a few events on each of many partitions, and those per-batch round trips
   * were most of the cost (docs/benchmarks-latency.md, freshness). Each batch's eachBatch settles
   * with the group.
   */
  async function projectGroup(group: Gathered[]): Promise<void> {
    const started = performance.now();
    // The retries stop when the consumer stops or any partition of the group was taken away.
    const control = {
      heartbeat: () => group[0]!.payload.heartbeat(),
      isRunning: () => group.every((g) => g.payload.isRunning()),
      isStale: () => group.some((g) => g.payload.isStale()),
    };
    try {
      const applied = new Map(group.map((g) => [g.field, BigInt(g.last)]));
      const outcome = await patiently(
        'project',
        () =>
          projectBatch(
            {
              ...batchDeps,
              ...(metrics ? { metrics } : {}),
              ...(deps.maxBulkBytes ? { maxBulkBytes: deps.maxBulkBytes } : {}),
              ...(deps.workPerCommit ? { workPerCommit: deps.workPerCommit } : {}),
              heartbeat: control.heartbeat,
              onCommitted: () => store.raiseApplied(applied),
            },
            group.map((g) => g.part),
          ),
        control,
      );
      for (const g of group) {
        publisher.mark(g.field, BigInt(g.last), outcome.newestByField.get(g.field) ?? 0);
        g.payload.resolveOffset(g.last);
      }
      const offsets = group.map((g) => ({ topic: g.part.source.topic, partition: g.part.source.partition, offset: (BigInt(g.last) + 1n).toString() }));
      await patiently('commit offsets', () => consumer!.commitOffsets(offsets), control).catch((error) => {
        // A rebalance took a partition: the next owner starts at the last commit and skips what
        // Redis says is applied.
        logger.info({ err: error, fields: group.map((g) => g.field) }, 'offset commit skipped');
      });
      metrics?.batchSeconds.observe((performance.now() - started) / 1000);
      const { newestByField, ...counts } = outcome;
      logger.debug({ fields: group.map((g) => g.field), messages: group.reduce((n, g) => n + g.payload.batch.messages.length, 0), ...counts, newestMs: Math.max(0, ...newestByField.values()) }, 'batches projected');
      for (const g of group) g.resolve();
    } catch (error) {
      for (const g of group) g.reject(error);
    }
  }

  /**
   * A committed offset means "written to OpenSearch" (we commit after the bulk write), but a
   * projector can die between its commit and the next position publish. So on every assignment the
   * committed offsets are published too (after a refresh, like any other position).
   */
  async function publishCommitted(assignment: Record<string, number[]>): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topicsAssigned = Object.keys(assignment);
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: topicsAssigned }))
        for (const { partition, offset } of partitions)
          if (assignment[topic]?.includes(partition) && BigInt(offset) > 0n) publisher.mark(`${topic}:${partition}`, BigInt(offset) - 1n, 0);
    } finally {
      await admin.disconnect();
    }
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
    status: () => ({ state: effectiveState(), waitingSteps: waiting, publishFailing, lastError, cachedAccounts: cache.size() }),

    async start(): Promise<void> {
      setState('starting');
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
        void publishCommitted(e.payload.memberAssignment).catch((error) => logger.warn({ err: error }, 'could not read committed offsets'));
      });
      await patiently('connect consumer', () => consumer!.connect());
      await consumer.subscribe({ topics: [config.topics.users, config.topics.roles, config.topics.queues, config.topics.inboxes], fromBeginning: deps.fromBeginning ?? true });
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
      setState('stopped');
      logger.info('projector stopped');
    },
  };
}

export type Projector = ReturnType<typeof createProjector>;

/** Outages are retried; bugs and rejected input are not (they would loop forever). */
/** Group-membership errors: this member lost its partitions; waiting will not bring them back. */
const LOST_MEMBERSHIP = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID']);

function isWorthRetrying(error: unknown): boolean {
  const e = error as { code?: string; retriable?: boolean; name?: string; type?: string };
  if (e?.code === 'opensearch_rejected') return false;
  // kafkajs says when its own error cannot heal (e.g. the member was evicted): then the batch must
  // end so that kafkajs rejoins the group; the next owner skips what Redis says is applied.
  if (e?.name === 'KafkaJSNonRetriableError' || (e?.type !== undefined && LOST_MEMBERSHIP.has(e.type))) return false;
  if (e?.name === 'TypeError' || e?.name === 'SyntaxError' || e?.name === 'RangeError') return false;
  // Redis refusing a command (a script error, a wrong type) will refuse it again; only its
  // transient states are worth waiting for.
  if (e?.name === 'ReplyError') return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)/.test((error as Error).message);
  return true;
}

/** The consumer group of a generation's projectors. */
export function projectorGroupId(namespace: string, generation: string): string {
  return `${namespace}-projector-${generation}`;
}
