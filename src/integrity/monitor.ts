/**
 * The integrity monitor: checks that Redis, OpenSearch and Kafka still agree, on start, whenever
 * the Redis connection comes back, and every few seconds. Every process that serves or projects
 * runs one; the API refuses every report while the verdict is not `ok` (503 with the reason), and
 * the projector's supervisor starts the repair. What is checked (docs/reliability.md):
 * - a repair under way (the marker) that still refuses reads;
 * - the live pointer, and the generation's identity in Redis and in each index's `_meta`;
 * - each index's checkpoints against the searchable positions (an index restored from an older
 *   snapshot holds less than was published);
 * - per partition: the group's committed offset (read first) against Redis's applied offset (read
 *   after: it only grows, so a committed offset past it means Redis lost applied events), and the
 *   topic's log start and end against the applied offset (history deleted, topic recreated).
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { generationIndices, generationsWithGroups, generationsWithIndices, outdatedReason, readIdentity, readIndexIdentity } from '../generation.ts';
import { eventTopics } from '../kafka/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { generationKeys, liveGenerationKey, offsetsIn } from '../redis/keys.ts';
import { readPublished } from '../redis/positions-reader.ts';
import { indexBehind, publishedGuard } from './checkpoints.ts';
import type { FaultCode } from './fault.ts';
import { REPAIR_STALE_MS, type RepairMarker, describeRepair, readRepair } from './repair-state.ts';

export interface Verdict {
  ok: boolean;
  fault?: FaultCode;
  /** what is wrong, in words an operator can act on */
  reason?: string;
  /** the repair under way, if any */
  repair?: RepairMarker;
  /** the live generation checked */
  generation?: string;
  checkedAt: string;
}

export interface IntegrityMonitorDeps {
  redis: Redis;
  opensearch: Client;
  kafka: Kafka;
  namespace: string;
  /** the four event topics */
  topics: readonly string[];
  /** the consumer group of a generation (src/projector/projector.ts projectorGroupId) */
  groupOf: (generation: string) => string;
  logger: Logger;
  metrics?: Metrics;
  intervalMs?: number;
}

const FAULTS: readonly FaultCode[] = ['redis_lost', 'redis_behind', 'index_lost', 'index_behind', 'index_outdated', 'topic_reset', 'history_gone', 'unverified', 'not_initialized'];

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createIntegrityMonitor(deps: IntegrityMonitorDeps) {
  const { redis, opensearch, kafka, namespace, logger, metrics } = deps;
  let verdict: Verdict = { ok: false, fault: 'unverified', reason: 'the stores have not been checked yet', checkedAt: new Date().toISOString() };
  /** bumped when the Redis connection closes: an answer read across a reconnect is not trusted */
  let connection = 0;
  /** the Redis connection whose offsets were last compared with Kafka's */
  let kafkaChecked = -1;
  let admin: Admin | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<Verdict> | undefined;
  let stopped = false;
  const listeners = new Set<(v: Verdict) => void>();

  function set(next: Verdict): void {
    // A repair's progress changes its reason's text: not a new fault to log again.
    const changed = next.ok !== verdict.ok || next.fault !== verdict.fault || next.repair?.phase !== verdict.repair?.phase;
    verdict = next;
    for (const code of FAULTS) metrics?.integrityFault.set({ fault: code }, next.fault === code ? 1 : 0);
    if (!changed) return;
    if (next.ok) logger.info({ generation: next.generation }, 'the stores agree; serving');
    else if (next.fault === 'unverified' || next.fault === 'not_initialized') logger.info({ fault: next.fault, reason: next.reason }, 'not serving yet');
    else logger.error({ fault: next.fault, reason: next.reason, repair: next.repair ? describeRepair(next.repair) : undefined }, 'the stores disagree; reports are refused');
    for (const listener of listeners) listener(next);
  }

  const onClose = () => {
    connection += 1;
    set({ ok: false, fault: 'unverified', reason: 'the connection to Redis was lost; its state is checked again once it is back', checkedAt: new Date().toISOString() });
  };
  const onReady = () => void check().catch(() => undefined);

  async function kafkaAdmin(): Promise<Admin> {
    if (!admin) {
      admin = kafka.admin();
      await admin.connect().catch((error: unknown) => {
        admin = undefined;
        throw error;
      });
    }
    return admin;
  }

  // eslint-disable-next-line max-lines-per-function -- the checks of one inspection in order (identity, positions, checkpoints, counts), each a few commented lines
  async function inspect(): Promise<Verdict> {
    const at = new Date().toISOString();
    const seen = connection;
    const marker = await readRepair(redis, namespace);
    const activeRepair = marker && (marker.phase === 'failed' || Date.now() - Date.parse(marker.heartbeat_at) < REPAIR_STALE_MS) ? marker : undefined;
    if (activeRepair && activeRepair.phase !== 'replaying')
      return { ok: false, fault: activeRepair.code, reason: describeRepair(activeRepair), repair: activeRepair, checkedAt: at };
    const generation = await redis.get(liveGenerationKey(namespace));
    if (!generation) {
      const existing = await generationsWithIndices(opensearch, namespace);
      if (existing.length === 0) {
        const groups = await generationsWithGroups(kafka, namespace).catch(() => []);
        if (groups.length > 0)
          return {
            ok: false,
            fault: 'redis_lost',
            reason: `Redis has no live generation for namespace ${namespace}, but Kafka holds its consumer groups (${groups.join(', ')}): Redis was emptied or replaced`,
            checkedAt: at,
          };
        return { ok: false, fault: 'not_initialized', reason: 'the index has no live generation yet: has the projector ever started?', checkedAt: at };
      }
      return {
        ok: false,
        fault: 'redis_lost',
        reason: `Redis has no live generation for namespace ${namespace}, but OpenSearch holds its indices (${existing.join(', ')}): Redis was emptied or replaced`,
        checkedAt: at,
      };
    }
    const space = { namespace, generation };
    const identity = await readIdentity(redis, space);
    if (!identity)
      return {
        ok: false,
        fault: 'redis_lost',
        generation,
        reason: `Redis has no state for the live generation ${generation} (its identity is gone): Redis was emptied or lost these keys`,
        checkedAt: at,
      };
    for (const index of Object.values(generationIndices(namespace, generation))) {
      const found = await readIndexIdentity(opensearch, index);
      if (!found.exists) return { ok: false, fault: 'index_lost', generation, reason: `index ${index} of the live generation is missing in OpenSearch`, checkedAt: at };
      if (found.generationId !== identity.id)
        return {
          ok: false,
          fault: 'index_lost',
          generation,
          reason: `index ${index} does not carry the identity of generation ${generation}: it was deleted and recreated, or restored from another life of the namespace`,
          checkedAt: at,
        };
      const outdated = outdatedReason(index, found, generation);
      if (outdated) return { ok: false, fault: 'index_outdated', generation, reason: outdated, checkedAt: at };
    }
    const published = await readPublished(redis, space);
    const positions = publishedGuard(published.positions, published.sealed);
    for (const index of Object.values(generationIndices(namespace, generation))) {
      // Redis first, checkpoints after: both only grow, and an index gets its checkpoints before
      // their positions are published and their refresh sealed.
      const reason = await indexBehind(opensearch, index, positions);
      if (reason) return { ok: false, fault: 'index_behind', generation, reason, checkedAt: at };
    }
    const kafkaVerdict = await inspectOffsets(generation, marker, at).catch((error: unknown) => {
      // Kafka does not answer: the offsets cannot be compared. A Redis connection checked whole
      // before keeps its verdict; a new one (Redis may have come back older) is not trusted yet.
      admin = undefined;
      if (kafkaChecked === seen) return null;
      return {
        ok: false,
        fault: 'unverified' as const,
        generation,
        reason: `Kafka does not answer (${(error as Error).message}), so Redis's offsets cannot be checked after its reconnection`,
        checkedAt: at,
      };
    });
    if (kafkaVerdict) return kafkaVerdict;
    if (seen !== connection) return { ok: false, fault: 'unverified', reason: 'the connection to Redis changed during the check', checkedAt: at };
    return { ok: true, generation, checkedAt: at, ...(marker ? { repair: marker } : {}) };
  }

  /** The offsets part of the check: null when they agree. */
  async function inspectOffsets(generation: string, marker: RepairMarker | null, at: string): Promise<Verdict | null> {
    const seen = connection;
    const space = { namespace, generation };
    const client = await kafkaAdmin();
    const existing = new Set(await client.listTopics());
    const topics = deps.topics.filter((t) => existing.has(t));
    // Committed first, applied after: applied only grows, so a committed offset past the applied
    // one read later cannot be a race with the projector.
    const committed = new Map<string, bigint>();
    if (topics.length > 0)
      for (const { topic, partitions } of await client.fetchOffsets({ groupId: deps.groupOf(generation), topics }))
        for (const { partition, offset } of partitions) if (BigInt(offset) >= 0n) committed.set(`${topic}:${partition}`, BigInt(offset));
    const applied = offsetsIn(await redis.hgetall(generationKeys(space).applied));
    for (const topic of deps.topics.filter((t) => !existing.has(t))) {
      const field = [...applied.keys()].find((f) => f.startsWith(`${topic}:`));
      if (field)
        return {
          ok: false,
          fault: 'topic_reset',
          generation,
          reason: `topic ${topic} does not exist, but the state has applied its events (${field} up to offset ${applied.get(field)}): the topic was deleted`,
          checkedAt: at,
        };
    }
    const replaying = marker?.code === 'redis_behind' && marker.phase === 'replaying' && marker.generation === generation;
    for (const topic of topics)
      for (const p of await client.fetchTopicOffsets(topic)) {
        const field = `${topic}:${p.partition}`;
        const done = applied.get(field) ?? -1n;
        const [low, high] = [BigInt(p.low), BigInt(p.high)];
        if (high - 1n < done)
          return {
            ok: false,
            fault: 'topic_reset',
            generation,
            reason: `topic ${topic} partition ${p.partition} ends at offset ${high - 1n}, but the state has applied its events up to offset ${done}: the topic was deleted and recreated`,
            checkedAt: at,
          };
        if (low > done + 1n && high > done + 1n)
          return {
            ok: false,
            fault: 'history_gone',
            generation,
            reason: `topic ${topic} partition ${p.partition}: the state needs offset ${done + 1n} next, but the topic begins at offset ${low}: events ${done + 1n} to ${low - 1n} were deleted (retention or deleteRecords)`,
            checkedAt: at,
          };
        const next = committed.get(field);
        if (next !== undefined && next - 1n > done && !replaying)
          return {
            ok: false,
            fault: 'redis_behind',
            generation,
            reason: `Redis's state of ${field} ends at offset ${done}, but offset ${next - 1n} was already projected: Redis went back in time (a snapshot restored, a lagging replica promoted)`,
            checkedAt: at,
          };
      }
    kafkaChecked = seen;
    return null;
  }

  /** Checks now (one check at a time; a caller during a check gets its result). */
  function check(): Promise<Verdict> {
    const seen = connection;
    running ??= inspect()
      .then((v) => {
        // Redis reconnected while the check read it: its parts may come from both sides.
        const verdictNow =
          seen === connection ? v : { ok: false, fault: 'unverified' as const, reason: 'the connection to Redis changed during the check', checkedAt: v.checkedAt };
        set(verdictNow);
        if (seen !== connection) setTimeout(() => void check().catch(() => undefined), 0);
        return verdictNow;
      })
      .catch((error: unknown) => {
        // Redis or OpenSearch does not answer: an outage, not a disagreement (the routes answer 503
        // for it on their own); the verdict stays what it was.
        logger.debug({ err: error }, 'integrity check could not run');
        return verdict;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    verdict: (): Verdict => verdict,
    /** changes every time the Redis connection closes */
    connection: (): number => connection,
    check,
    onChange(listener: (v: Verdict) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Listens to the Redis connection, checks once (waits for it), then every `intervalMs`. */
    async start(): Promise<Verdict> {
      redis.on('close', onClose);
      redis.on('ready', onReady);
      const first = await check();
      const tick = () => {
        timer = setTimeout(() => {
          void check().finally(() => {
            if (!stopped) tick();
          });
        }, deps.intervalMs ?? 2_000);
      };
      tick();
      return first;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      redis.off('close', onClose);
      redis.off('ready', onReady);
      await running;
      await admin?.disconnect().catch(() => undefined);
    },
  };
}

export type IntegrityMonitor = ReturnType<typeof createIntegrityMonitor>;

/** The monitor of a runtime's namespace (the commands' composition). */
export function monitorFor(
  runtime: {
    clients: { redis: Redis; opensearch: Client; kafka: Kafka };
    config: { namespace: string; topics: { users: string; roles: string; queues: string; inboxes: string } };
    logger: Logger;
    metrics: Metrics;
  },
  groupOf: (generation: string) => string,
): IntegrityMonitor {
  const { clients, config } = runtime;
  return createIntegrityMonitor({
    redis: clients.redis,
    opensearch: clients.opensearch,
    kafka: clients.kafka,
    namespace: config.namespace,
    topics: eventTopics(config.topics),
    groupOf,
    logger: runtime.logger.child({ component: 'integrity' }),
    metrics: runtime.metrics,
  });
}
