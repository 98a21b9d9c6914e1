/**
 * The projector: a kafkajs consumer group over the four topics. Each batch is decoded (poison to
 * the dead-letter topic) and its events go to their accounts' lanes (src/projector/lanes.ts); a
 * loop projects rounds from the lanes, one bounded turn per account (Redis commit, OpenSearch
 * write), raises each partition's applied prefix, marks it for publishing and commits it to Kafka.
 * Outages pause the round and retry with backoff; nothing is lost or doubled because every step is
 * idempotent and fenced.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { decodeBatch } from './decode-batch.ts';
import { createProjectorHealth } from './health.ts';
import { createLagMonitor } from './lag-monitor.ts';
import { type PartitionLook, type StepInFlight, createActivity, createPartitionWatch, createProgressWatch } from './progress-watch.ts';
import { type Consumed, type Lanes, type Raise, type Round, createLanes } from './lanes.ts';
import { lightAccounts } from './light-accounts.ts';
import { catchingUpAccounts } from './catching-up.ts';
import { type BatchControl, createPatience } from './patience.ts';
import { GATE_WAIT, createPositionPublisher } from './positions.ts';
import { createTornAccounts } from './torn-accounts.ts';
import { type BatchDeps, type BatchOutcome, projectBatch } from './project-batch.ts';
import { RepairNeeded, createStateGuard } from './state-guard.ts';
import { createWriteGate } from './write-gate.ts';
import { createWriteGroup } from './write-group.ts';
import { type WriteTurn, createWriteOrder } from './write-order.ts';

export interface ProjectorDeps {
  kafka: Kafka;
  redis: Redis;
  opensearch: Client;
  config: Pick<Config, 'topics' | 'namespace' | 'dedupeWindowMs'> &
    Partial<Pick<Config, 'sessionTimeoutMs' | 'publishIntervalMs' | 'maxBytesPerPartition' | 'accountCacheBytes' | 'laneEvents' | 'roundEvents' | 'roundWork' | 'stallMs'>>;
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
  /**
   * Bytes left under the process's memory budget (Runtime.memoryRoom): a heavy round lets its
   * account go before it has written only while room for another is left (src/projector/catching-up.ts); default: no bound
   */
  memoryRoom?: () => number;
}

/** kafkajs workers: at least the partitions one projector owns (4 topics × their partitions). */
export const PARTITIONS_IN_FLIGHT = 64;

/** Events waiting in the lanes at most (about 1 KiB each) before eachBatch holds the fetch back (ACCESS_INDEX_LANE_EVENTS). */
export const LANE_EVENTS = 50_000;

/** Events one round takes at most (ACCESS_INDEX_ROUND_EVENTS). */
export const ROUND_EVENTS = 5_000;

/**
 * An account with more events than this waiting is catching up: its rounds hold only accounts
 * catching up, so that an account with a few events waiting (a small account's change) goes in a
 * small round of its own kind, planned and written at once (decision 36).
 */
export const BACKLOG_EVENTS = 100;

/**
 * The work one round plans in all (distinct users reached plus events, shared by its accounts;
 * each account gets at least one event), as one commit's (WORK_PER_COMMIT): the more a plan holds,
 * the more of a neighbour's repeated role changes it derives once. A change of another account does
 * not wait for it: it goes into a round of its own beside it (ROUNDS_IN_FLIGHT), and plans yield
 * as they derive. (ACCESS_INDEX_ROUND_WORK)
 */
export const ROUND_WORK = 10_000;

/** Commits per account and partition in one round: one, so a round is bounded by the work budget per commit. */
export const PIECES_PER_ROUND = 1;

/**
 * Rounds planned at once over disjoint accounts: a small account's round runs beside big ones. As
 * many again may be writing after their commit (decision 37).
 */
export const ROUNDS_IN_FLIGHT = 8;

/**
 * Rounds planned at once while the projector is behind (more than CAUGHT_UP_EVENTS waiting). An
 * account is taken again as soon as its round lets it go, so with many rounds at once each takes
 * the few events its accounts gathered meanwhile; fewer at once leave each account more events per
 * round, whose changes to one user merge into one write, and fewer Redis commits (decision 44).
 */
export const ROUNDS_IN_FLIGHT_BEHIND = 3;

/**
 * In a round of accounts with a few events waiting, the accounts whose plans took the least work,
 * up to this much in all, go at commit, before the round has written (decisions 37 and 45).
 */
export const LIGHT_WORK = 200;

/**
 * An account let go at commit (a light one) is taken again only while fewer of its rounds than this
 * still write: a small account's changes every 200 ms beside a neighbour's bulks of a second commit
 * without waiting for the writes before them (decision 45; 2 before), and an account cannot pile up
 * rounds that wait to write.
 */
export const ROUNDS_WRITING_PER_ACCOUNT = 4;

/** Light rounds let go at commit only while at most this many events wait in the lanes (the projector keeps up). */
export const CAUGHT_UP_EVENTS = 5_000;

/** An account load taking this long is logged (info), with its estimated size and whether the memory budget had dropped it. */
const SLOW_LOAD_SECONDS = 0.5;

/** An account whose last round's plans took more work than this is heavy: it gets rounds of its own. */
export const HEAVY_WORK = 1_000;

/** The consumer group's session timeout unless KAFKA_SESSION_TIMEOUT_MS says otherwise. */
const SESSION_TIMEOUT_MS = 30_000;

/**
 * How long the broker holds a fetch that finds nothing new (kafkajs' maxWaitTimeInMs, 5 s by
 * default). The consumer stops, and takes part in a rebalance, only once its fetch in flight has
 * returned (kafkajs #1606): at 5 s, a projector stopped with SIGTERM took 5 s to leave its group
 * while its partitions waited. An idle projector fetches once a second instead; under load a fetch
 * returns as soon as an event arrives either way.
 */
export const FETCH_WAIT_MS = 1_000;

/** How long the group waits for its members to rejoin: a minute, or the session timeout if longer. */
const rebalanceTimeoutMs = (sessionTimeoutMs: number | undefined) => Math.max(60_000, sessionTimeoutMs ?? 0);

/** How long events may wait with no step made before the projector reports a stall (ACCESS_INDEX_STALL_SECONDS; decision 66). */
export const STALL_MS = 60_000;

/** A batch's wait for room in the lanes: backpressure, however long, never a stuck step. */
const ROOM_WAIT = 'a batch waits for room in the lanes';

/** How often the progress watch looks (the lag is sampled as often). */
const WATCH_INTERVAL_MS = 5_000;

/** How long a stuck consumer's disconnect may take before its replacement starts anyway. */
const DISCONNECT_TIMEOUT_MS = 30_000;

/** How long the loop waits after a step failed for good (as kafkajs restarting a crashed consumer would). */
const PERMANENT_FAILURE_PAUSE_MS = 5_000;

// A composition root: each step it wires is its own small unit (health, patience, state guard,
// batch decoding, lanes, projectBatch, position publisher); what is left here is their wiring and the
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
  const lanes: Lanes = createLanes({ maxQueued: config.laneEvents ?? LANE_EVENTS, roundEvents: config.roundEvents ?? ROUND_EVENTS, backlogEvents: BACKLOG_EVENTS });
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
    seek: (field, offset) => {
      lanes.reset(field, offset);
      // The consumer continues there: nothing before it is to be handed over (decision 67).
      standAt(field, offset - 1n, false);
      consumer!.seek({ ...splitField(field), offset: offset.toString() });
    },
    repair: repairFromRedis,
  });
  const store = createAccountStore(redis, deps.space, { fence: guard.fence });
  const cache = createAccountCache(store, config.dedupeWindowMs, {
    ...(config.accountCacheBytes ? { budgetBytes: config.accountCacheBytes } : {}),
    serveOrder: () => lanes.serveOrder(),
    inUse: () => heldAccounts(),
    keepLast: () => lastWork,
    onEvict: () => metrics?.accountsEvicted.inc(),
    onLoad: (accountId, load) => {
      metrics?.accountLoadSeconds.observe({ after: load.afterEviction ? 'eviction' : 'none' }, load.seconds);
      if (load.seconds >= SLOW_LOAD_SECONDS)
        logger.info(
          { accountId, seconds: Number(load.seconds.toFixed(3)), estimatedMiB: Math.round(load.bytes / 2 ** 20), afterEviction: load.afterEviction },
          'slow account load',
        );
    },
  });
  /** the cache's sizes, read at each scrape of /metrics (`access_index_account_cache_bytes`) */
  const unwatchCache = metrics?.watchAccountCache(() => cache.sizes());
  const topics = logicalTopics(config.topics);
  const targets = deps.writeTargets ?? deps.indices;
  /** the accounts a refresh may show part-written, marked in Redis by the publisher (decision 59) */
  const torn = createTornAccounts();
  // A refresh goes between a big round's slices while the projector keeps up (a small account's
  // change is searchable sooner); while it is behind, it waits for the last slice (the catch-up
  // goes faster, and the lag is what a search waits for then).
  const gate = createWriteGate({ holdRefresh: () => torn.writing() && behind() });
  const publisher = createPositionPublisher({
    gate,
    torn,
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
  /** the steps the projector makes, and a watch over them (decision 66) */
  // A step made ends a stall at once: /readyz does not wait for the next look of the watch.
  const activity = createActivity({
    onStep: () => {
      lastStepAt = performance.now();
      if (stalled) endStall();
    },
  });
  /** when the last step was made (a restart needs a lag sample taken after it) */
  let lastStepAt = performance.now();
  /** a stall is reported (health, log) */
  let stalled = false;
  const progress = createProgressWatch({ stallMs: config.stallMs ?? STALL_MS });
  /** the partitions of the latest assignment */
  let assigned: readonly string[] = [];
  /** when the consumer last completed a fetch, began a rejoin or joined (kafkajs fetches at least every 5 s, idle or not) */
  let fetchedAt = performance.now();
  /**
   * No fetch for this long is a consumer that stopped: at least the stall time, and at least a
   * rejoin's longest wait (the rebalance timeout, another member slow to rejoin) plus a session.
   */
  const noFetchMs = Math.max(config.stallMs ?? STALL_MS, rebalanceTimeoutMs(config.sessionTimeoutMs) + (config.sessionTimeoutMs ?? SESSION_TIMEOUT_MS));
  /** the latest lag sample (with the partitions' high watermarks), and when it was taken */
  let lag: { byField: ReadonlyMap<string, number>; highs: ReadonlyMap<string, bigint>; at: number } = { byField: new Map(), highs: new Map(), at: performance.now() };
  const lagMonitor = createLagMonitor({
    kafka,
    topics: eventTopicNames,
    store,
    metrics,
    logger,
    onSample: (byField, highs) => (lag = { byField, highs, at: performance.now() }),
  });
  /**
   * per partition: the batches kafkajs handed over (or passed), and where the consumer stands: the
   * last offset of the latest batch, or the one before where it was sought or continues after a join
   */
  const handedOver = new Map<string, { batches: number; last: bigint | undefined }>();
  /** Records where the consumer stands on `field`; `moved` counts a batch (movement, for the partition watch). */
  const standAt = (field: string, last: bigint | undefined, moved: boolean) => handedOver.set(field, { batches: (handedOver.get(field)?.batches ?? 0) + (moved ? 1 : 0), last });
  /** fetches the consumer completed */
  let fetches = 0;
  const partitions = createPartitionWatch({ stallMs: config.stallMs ?? STALL_MS });
  /** the partitions reported as starved */
  let starvedNow = new Set<string>();
  /**
   * The watch runs on a timer of its own, with the latest lag sample: a sample that hangs (a Redis
   * that no longer answers) must not blind it, and then the events in the lanes count as waiting.
   */
  let watchTimer: NodeJS.Timeout | undefined;
  /** the latest batch's heartbeat: a long round keeps the group membership alive with it */
  let heartbeat: () => Promise<void> = async () => undefined;

  /** Decodes a batch, sends its poison to the dead-letter topic and its events to the lanes; waits only while the lanes are full. */
  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // The assignment's seek first; a batch fetched before a seek is stale: kafkajs reads the
    // partition again from the sought offset (and its poison is dead-lettered then, once).
    await activity.run('a batch waits for the assignment check', () => joined, false);
    if (batch.messages.length === 0 || payload.isStale()) return;
    const field = `${batch.topic}:${batch.partition}`;
    const { events, poison } = decodeBatch(batch, topics.get(batch.topic));
    if (poison.length > 0) {
      await activity.run('dead-letter', () => patiently('dead-letter', () => sendToDeadLetter(producer!, config.topics.deadLetter, poison), payload));
      for (const p of poison) metrics?.deadLetters.inc({ code: p.code });
      logger.warn({ count: poison.length, field, reasons: poison.slice(0, 5).map((p) => `${p.offset}: ${p.reason}`) }, 'poison messages sent to the dead-letter topic');
    }
    // Stopping: no round takes events any more (they are fetched again from Redis's offsets).
    if (payload.isStale() || !payload.isRunning() || abort.signal.aborted) return;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    heartbeat = payload.heartbeat;
    lanes.add(field, { firstOffset: BigInt(batch.firstOffset() ?? last), last: BigInt(last), highWatermark: BigInt(batch.highWatermark), events });
    // kafkajs fetches on from here; what counts as consumed (Redis's applied offsets, the group's
    // committed offsets) is each partition's finished prefix, raised by the rounds.
    payload.resolveOffset(last);
    activity.made();
    metrics?.laneEvents.set(lanes.queued());
    await activity.run(ROOM_WAIT, () => lanes.room(), false);
  }

  const documents = createOpenSearchDocuments(opensearch);
  // The rounds' last writes that wait for the gate together go in one bulk (decision 56).
  const group = createWriteGroup({
    gate,
    torn,
    documents,
    onResult: (result, rounds) => {
      metrics?.documentsWritten.inc({ op: 'index' }, result.indexed);
      metrics?.documentsWritten.inc({ op: 'delete' }, result.deleted);
      metrics?.groupedRounds.observe(rounds);
    },
  });

  /** What every projection needs; a round adds metrics, limits, heartbeat and applied positions. */
  const batchDeps: BatchDeps = {
    store,
    cache,
    documents,
    indices: () => targets,
    windowMs: config.dedupeWindowMs,
    logger,
    versionOffset: () => versionOffset(guard.epoch()),
    requireAlias: deps.writeTargets !== undefined,
    afterWrite: guard.checkEpoch,
    onIntervalsWritten: (written) => publisher.markIntervals(written),
    gate,
    group,
    torn,
    ...(metrics ? { metrics } : {}),
    ...(deps.maxBulkBytes ? { maxBulkBytes: deps.maxBulkBytes } : {}),
    ...(deps.workPerCommit ? { workPerCommit: deps.workPerCommit } : {}),
  };

  function enterFault(error: IntegrityFault): void {
    if (!health.enterFault(error)) return;
    // Nothing is consumed any more: no partition is starved by the consumer (the watch stops looking).
    health.starved(undefined);
    logger.error({ fault: error.code, reason: error.message }, 'the stores disagree; the projector stops consuming');
    consumer?.pause(eventTopicNames.map((topic) => ({ topic })));
    deps.onFault?.(error);
  }

  interface Attempt {
    outcome: BatchOutcome;
    raises: Map<string, Raise>;
    marker: Awaited<ReturnType<typeof guard.checkRound>>['marker'];
    /** ms of each stage of this attempt (check, commit, write), for the round's debug line */
    stagesMs: Record<string, number>;
  }

  /** One attempt at a round: the guard's checks, then projectBatch over the partitions kept. */
  async function attempt(round: Round, control: BatchControl, turn: WriteTurn, dropped: Map<string, number>): Promise<Attempt> {
    // One check at a time; a round may repair only when it is the only one in flight (the others
    // either finished or wait here, before touching anything).
    const stage = metrics?.roundStageSeconds;
    let since = performance.now();
    const stagesMs: Record<string, number> = {};
    const lap = (name: string) => {
      const at = performance.now();
      stage?.observe({ stage: name }, (at - since) / 1000);
      stagesMs[name] = Math.round(at - since);
      since = at;
      const entry = running.get(round);
      if (entry) entry.stage = `after ${name}`;
    };
    const checked = await checks.run(() => guard.checkRound(round.bounds, running.size === 1));
    lap('check');
    let raises = new Map<string, Raise>();
    const outcome = await projectBatch(
      {
        ...batchDeps,
        maxPieces: PIECES_PER_ROUND,
        budget: { left: config.roundWork ?? ROUND_WORK },
        heartbeat: control.heartbeat,
        turn,
        onDropped: (accounts) => {
          for (const [accountId, partition] of accounts) dropped.set(accountId, partition);
        },
        onCommitted: async (committed) => {
          raises = new Map([...lanes.raises(round, committed.consumed)].filter(([field]) => checked.kept.has(field)));
          await store.raiseApplied(raises);
          lap('commit');
          // The accounts' changes are in Redis (their summaries current): while the projector
          // keeps up, a short round's light accounts may go into their next round while it writes
          // (decisions 37 and 45); the others wait for the write. A retry commits again: the
          // first counts.
          if (round.committed) return;
          const early = round.kind === 'short' && !behind() ? lightAccounts(committed.work, LIGHT_WORK) : catchingUp(round, committed.consumed);
          if (early.size === 0) return;
          lanes.commit(round, committed.consumed);
          recordWork(committed.work);
          freeAccounts(round, early);
        },
        // Marked inside the gate, with the write: the next refresh shows exactly these.
        onWritten: (written) => {
          for (const [field, raise] of raises) publisher.mark(field, raise.to, written.newestByField.get(field) ?? 0);
          publisher.markAccounts(written.accountOffsets);
          lap('write');
        },
      },
      round.parts.filter((p) => checked.kept.has(`${p.source.topic}:${p.source.partition}`)),
    );
    return { outcome, raises, marker: checked.marker, stagesMs };
  }

  /** the last offset committed to Kafka per partition (this assignment) */
  const committedTo = new Map<string, bigint>();

  /** After a round is projected: the lanes move on, the prefixes go to Kafka, a repair settles. */
  async function finish(round: Round, result: Attempt, control: BatchControl, started: number): Promise<void> {
    const { outcome, raises, marker, stagesMs } = result;
    lanes.settle(round, outcome.consumed, raises);
    // Any other round lets its accounts go now: what is left here (the repair's settling, the
    // commit to Kafka) touches no account.
    if (!round.committed) recordWork(outcome.work);
    freeAccounts(round);
    metrics?.laneEvents.set(lanes.queued());
    // Retried like any step: a failure here must not count as the round's (nothing of it is redone).
    await patiently('settle the repair', () => guard.settleRepair(marker, new Map([...raises].map(([field, r]) => [field, r.to]))), control);
    // Rounds finish in any order: a partition's committed offset only moves forward.
    const forward = [...raises].filter(([field, r]) => r.to > (committedTo.get(field) ?? -1n));
    for (const [field, r] of forward) committedTo.set(field, r.to);
    const offsets = forward.map(([field, r]) => ({ ...splitField(field), offset: (r.to + 1n).toString() }));
    if (offsets.length > 0)
      await patiently('commit offsets', () => consumer!.commitOffsets(offsets), control).catch((error) => {
        // A rebalance took a partition: the next owner starts at the last commit and skips what
        // Redis says is applied.
        logger.info({ err: error, fields: [...raises.keys()] }, 'offset commit skipped');
      });
    metrics?.batchSeconds.observe((performance.now() - started) / 1000);
    if (!logger.isLevelEnabled('debug')) return;
    const { newestByField, consumed, ...counts } = outcome;
    const accountIds = new Set(round.parts.flatMap((p) => [...p.byAccount.keys()]));
    logger.debug(
      {
        fields: [...raises.keys()],
        kind: round.kind,
        accounts: accountIds.size,
        // a small round names its accounts (a small account's rounds can be followed)
        ...(accountIds.size <= 10 ? { accountIds: [...accountIds] } : {}),
        queued: lanes.queued(),
        ...counts,
        newestMs: Math.max(0, ...newestByField.values()),
        laneMs: round.oldestAddedMs === undefined ? undefined : Math.round(started - round.oldestAddedMs),
        sinceLogMs: sinceLog(round, performance.timeOrigin + started),
        ...stagesMs,
        ms: Math.round(performance.now() - started),
      },
      'round projected',
    );
  }

  /** One round, retried while the stores are out; a fault stops consuming. */
  async function projectRound(round: Round, turn: WriteTurn): Promise<void> {
    const started = performance.now();
    const control: BatchControl = {
      heartbeat: () => heartbeat(),
      isRunning: () => !abort.signal.aborted,
      isStale: () => false,
    };
    let attempted: Attempt | undefined;
    /** the accounts its failed attempts dropped from the cache */
    const dropped = new Map<string, number>();
    try {
      attempted = await patiently('project', () => attempt(round, control, turn, dropped), control);
    } catch (error) {
      // The accounts' next rounds may write before one writes their outbox: what they show until
      // then is no state of theirs (decision 59).
      torn.broke(dropped);
      await failed(error);
      // What it committed goes back to the lanes (after the pause): a later round finds it applied
      // and writes the outbox (the failure dropped its accounts from the cache).
      lanes.giveBack(round);
      turn.done();
      return;
    }
    // Its writes are made: the accounts' next rounds may write (the settle below touches no account).
    turn.done();
    const entry = running.get(round);
    if (entry) entry.stage = 'finishing (repair settled, offsets committed to Kafka)';
    await finish(round, attempted, control, started).catch(failed);
  }

  /** A round that ended without finishing: a fault stops consuming, a gap asks for a repair, anything else pauses. */
  async function failed(error: unknown): Promise<void> {
    if (error instanceof IntegrityFault) return enterFault(error);
    if (abort.signal.aborted) return;
    // A gap while other rounds ran: the loop lets them finish, then runs the next round alone.
    if (error instanceof RepairNeeded) {
      repairWanted = true;
      return;
    }
    // Not retriable (src/errors.ts): the round stays in the lanes and is tried again after a pause.
    health.error(`project: ${(error as Error).message}`);
    logger.error({ err: error }, 'a round failed; trying again after a pause');
    await sleep(PERMANENT_FAILURE_PAUSE_MS, undefined, { signal: abort.signal }).catch(() => undefined);
  }

  /** each account's work in its last round (a heavy account's next round is its own) */
  const lastWork = new Map<string, number>();

  /** each account's rounds in the order they were taken: a round writes after the earlier ones of its accounts */
  const writeOrder = createWriteOrder();

  /** Rounds in flight, each with the accounts it holds until it commits them (no account is in two rounds' plans at once). */
  const running = new Map<Round, { accounts: ReadonlySet<string>; writing: readonly string[]; done: Promise<void>; stage: string; since: number }>();
  /** wakes the round loop when a round lets its accounts go before it ends */
  let accountsFreed: (() => void) | undefined;

  /**
   * Lets a round's accounts go: the `light` ones once it has committed (they count as writing
   * until it has written), or all that are left once it has written.
   */
  function freeAccounts(round: Round, light?: ReadonlySet<string>): void {
    const entry = running.get(round);
    if (!entry || entry.accounts.size === 0) return;
    if (light) {
      entry.writing = [...light];
      entry.accounts = new Set([...entry.accounts].filter((accountId) => !light.has(accountId)));
    } else entry.accounts = new Set();
    accountsFreed?.();
  }

  /** the last heavy round that could have gone early was held for memory (logged when it changes) */
  let heavyHeld = false;

  /** A heavy round's accounts that go into their next round while it writes (src/projector/catching-up.ts, decisions 49 and 50). */
  function catchingUp(round: Round, consumed: Consumed): Set<string> {
    if (round.kind !== 'heavy') return new Set();
    let otherWriting = false;
    for (const [other, entry] of running) if (other !== round && other.kind === 'heavy' && entry.writing.length > 0) otherWriting = true;
    const accounts = [...round.taken.values()].flatMap((byAccount) => [...byAccount.keys()]);
    const room = deps.memoryRoom?.() ?? Infinity;
    const { early, heldForMemory } = catchingUpAccounts({ accounts, consumed, waiting: (accountId) => lanes.waiting(accountId), otherWriting, room });
    if (heldForMemory) metrics?.heavyRoundsHeld.inc();
    if (heldForMemory !== heavyHeld && (heldForMemory || early.size > 0)) {
      heavyHeld = heldForMemory;
      const roomMiB = Math.round(room / 2 ** 20);
      if (heldForMemory) logger.info({ roomMiB }, 'heavy rounds hold their account until written: the memory budget has no room for two at once');
      else logger.info({ roomMiB }, "heavy rounds let their account go at commit again: the memory budget has room for the next one's documents");
    }
    return early;
  }

  /** The accounts the rounds in flight hold, planning or writing (the account cache keeps them). */
  function heldAccounts(): Set<string> {
    const held = new Set<string>();
    for (const entry of running.values()) {
      for (const accountId of entry.accounts) held.add(accountId);
      for (const accountId of entry.writing) held.add(accountId);
    }
    return held;
  }

  function recordWork(work: ReadonlyMap<string, number>): void {
    for (const [accountId, n] of work)
      if (n > HEAVY_WORK) lastWork.set(accountId, n);
      else lastWork.delete(accountId);
  }

  /** The lanes hold a backlog: light accounts are held to their write (decisions 37, 45), fewer rounds run at once (decision 44). */
  const behind = () => lanes.queued() > CAUGHT_UP_EVENTS;

  /**
   * Accounts a new round must leave: those in a round that has not committed them, and those with
   * ROUNDS_WRITING_PER_ACCOUNT rounds still writing (an account does not pile up rounds that wait to write).
   */
  function busyAccounts(): Set<string> {
    const busy = new Set<string>();
    const writing = new Map<string, number>();
    for (const r of running.values()) {
      for (const accountId of r.accounts) busy.add(accountId);
      for (const accountId of r.writing) writing.set(accountId, (writing.get(accountId) ?? 0) + 1);
    }
    for (const [accountId, n] of writing) if (n >= ROUNDS_WRITING_PER_ACCOUNT) busy.add(accountId);
    return busy;
  }

  /** a round that only raises (no events) is in flight */
  const raising = () => [...running.keys()].some((r) => r.kind === undefined);

  /** Rounds still planning or committing (those that only write count apart, up to twice as many). */
  const planning = () => [...running.values()].filter((r) => r.writing.length === 0).length;
  /** a round found a gap while others ran: the next round runs alone, after them */
  let repairWanted = false;
  /** serializes the rounds' checks (the write gate's serializer; every check weighs the same, so they go in arrival order) */
  const checks = createWriteGate();

  /** Settles once no round is in flight; an assignment waits for it. */
  const idle = async (): Promise<void> => {
    while (running.size > 0) await Promise.allSettled([...running.values()].map((r) => r.done));
  };

  /**
   * Takes rounds from the lanes until the projector stops: up to ROUNDS_IN_FLIGHT planning at once,
   * over disjoint accounts, so that a small account's change is committed while a neighbour's
   * fan-out is still being planned (plans yield as they derive) or written; rounds that have
   * committed and only write count apart (decision 37).
   */
  async function roundLoop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    const settled = () => [...running.values()].map((r) => r.done);
    while (!abort.signal.aborted) {
      await joined;
      if (repairWanted) await idle();
      const inFlight = behind() ? ROUNDS_IN_FLIGHT_BEHIND : ROUNDS_IN_FLIGHT;
      if (planning() >= inFlight || running.size >= 2 * inFlight) {
        await Promise.race([...settled(), stopped, new Promise<void>((resolve) => (accountsFreed = resolve))]);
        accountsFreed = undefined;
        continue;
      }
      // One round at a time that only raises the partitions' finished prefixes (decision 57).
      const round = health.fault() ? undefined : lanes.take(busyAccounts(), (accountId) => (lastWork.get(accountId) ?? 0) > HEAVY_WORK, !raising());
      if (!round) {
        await Promise.race([lanes.next(), stopped, new Promise<void>((resolve) => (accountsFreed = resolve)), ...settled()]);
        accountsFreed = undefined;
        continue;
      }
      if (round.oldestAddedMs !== undefined) metrics?.roundStageSeconds.observe({ stage: 'lane' }, (performance.now() - round.oldestAddedMs) / 1000);
      // In `running` before it starts: its check counts itself.
      const entry = {
        accounts: new Set(round.parts.flatMap((p) => [...p.byAccount.keys()])),
        writing: [] as readonly string[],
        done: Promise.resolve(),
        stage: 'checking',
        since: performance.now(),
      };
      running.set(round, entry);
      const turn = writeOrder.enter(entry.accounts);
      entry.done = projectRound(round, turn).finally(() => {
        running.delete(round);
        activity.made();
      });
      // A round that may repair runs alone, to its end.
      if (repairWanted) {
        await entry.done;
        repairWanted = false;
      }
    }
    await idle();
  }
  let looping: Promise<void> = Promise.resolve();

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
      // Every outbox is written: what a projector that died left part-written is whole now, and the
      // marks of this assignment's accounts are this projector's to lift (decision 59).
      torn.adopt(await store.tornAccounts(), new Set(fields.map((field) => splitField(field).partition)));
      for (const field of fields) if ((applied.get(field) ?? -1n) >= 0n) publisher.mark(field, applied.get(field)!, 0);
      // Where each partition continues, unless a seek or a batch said so already (decision 67).
      for (const field of fields) if (handedOver.get(field)?.last === undefined) standAt(field, applied.get(field) ?? -1n, false);
    });
  }

  /** The rollback repair, with what the projector holds in memory dropped around it. */
  async function repairFromRedis(reason: string, target: Map<string, bigint>): Promise<number> {
    publisher.discard();
    metrics?.integrityRepairs.inc({ fault: 'redis_behind' });
    const epoch = await repairRollback({ redis, opensearch, store, space: deps.space, indices: deps.indices, windowMs: config.dedupeWindowMs, logger }, reason, target);
    cache.clear();
    // The repair lifted every mark in Redis (decision 59): what is torn from now on is marked again.
    torn.discard();
    return epoch;
  }

  /** Writes the documents that a crash left in the outbox of any account. */
  async function recoverOutbox(): Promise<void> {
    const accounts = await store.dirtyAccounts();
    for (const accountId of accounts)
      await patiently('recover outbox', () => projectBatch(batchDeps, [{ source: { topic: '', partition: -1 }, byAccount: new Map([[accountId, []]]) }]));
    if (accounts.length > 0) logger.info({ accounts: accounts.length }, 'outbox recovered');
  }

  /** the restart under way (one at a time; stop waits for it) */
  let restarting: Promise<void> | undefined;
  /** consumers replaced whose disconnect did not end in time (stop disconnects them again) */
  const abandoned: Consumer[] = [];

  /** A new consumer, connected and subscribed (`runConsumer` starts it). */
  async function connectConsumer(): Promise<Consumer> {
    const c = createConsumer();
    consumer = c;
    c.on(c.events.FETCH, () => {
      if (consumer !== c) return;
      fetchedAt = performance.now();
      fetches += 1;
    });
    // Every batch kafkajs takes: those of transaction markers and aborted messages too (which never
    // reach eachBatch), stale ones after a seek too (a re-read below an earlier batch is movement).
    c.on(c.events.START_BATCH_PROCESS, ({ payload }) => {
      if (consumer !== c) return;
      standAt(`${payload.topic}:${payload.partition}`, BigInt(payload.lastOffset), true);
    });
    await patiently('connect consumer', () => c.connect());
    await c.subscribe({ topics: eventTopicNames, fromBeginning: deps.fromBeginning ?? true });
    return c;
  }

  async function runConsumer(c: Consumer): Promise<void> {
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every batch of a fetch at once (each only decodes and queues).
      partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently ?? PARTITIONS_IN_FLIGHT,
      eachBatch,
    });
  }

  /**
   * The consumer is replaced by a new one: it joins the group again, and on its assignment every
   * partition continues where Redis's applied offsets end (as after a restart of the process).
   */
  function restartConsumer(reason: string): Promise<void> {
    // One at a time: a second restart while the first one's consumer still connects (Kafka is
    // out) would leave two consumers of this projector in the group.
    restarting ??= replaceConsumer(reason).finally(() => (restarting = undefined));
    return restarting;
  }

  async function replaceConsumer(reason: string): Promise<void> {
    const old = consumer;
    if (!old || abort.signal.aborted) return;
    logger.warn({ reason }, 'restarting the Kafka consumer');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DISCONNECT_TIMEOUT_MS)));
    const left = old.disconnect().then(
      () => true,
      (error: unknown) => {
        logger.warn({ err: error }, 'consumer disconnect failed');
        return true;
      },
    );
    // A disconnect that hangs is tried again at stop.
    if (!(await Promise.race([left, timeout]))) abandoned.push(old);
    clearTimeout(timer);
    if (abort.signal.aborted) return;
    const c = await connectConsumer();
    // Stopped meanwhile: `stop` disconnected it, or disconnected the old one and leaves this one.
    if (abort.signal.aborted) {
      await c.disconnect().catch(() => undefined);
      return;
    }
    await runConsumer(c);
    logger.info('the Kafka consumer runs again');
  }

  /** The rounds in flight, with their stage and how long they have run (ms). */
  function roundsInFlight(at: number) {
    return [...running].map(([round, entry]) => ({
      kind: round.kind ?? 'raise',
      accounts: entry.accounts.size,
      writing: entry.writing.length,
      stage: entry.stage,
      ms: Math.round(at - entry.since),
    }));
  }

  /** What the projector is doing, for a stall's log line: the oldest step is where it hangs. */
  function stallReport(steps: StepInFlight[], rounds: ReturnType<typeof roundsInFlight>, publishing: ReturnType<typeof publisher.status>) {
    return {
      steps,
      rounds,
      queuedEvents: lanes.queued(),
      writeGate: gate.status(),
      checkGate: checks.status(),
      writeGroup: group.status(),
      publisher: publishing,
      accountsWaitingToWrite: writeOrder.size(),
      lastError: health.status().lastError,
    };
  }

  function endStall(): void {
    stalled = false;
    health.stalled(undefined);
    logger.info('the projector makes progress again');
  }

  /**
   * Every look: the partitions the consumer hands nothing over for while Kafka holds events past
   * them, through fetches it completes (createPartitionWatch, decision 67).
   */
  function watchPartitions(): void {
    const looks: PartitionLook[] = [];
    for (const field of assigned) {
      const high = lag.highs.get(field);
      const handed = handedOver.get(field);
      // Until the assignment check says where the partition continues, nothing is known to wait.
      if (high === undefined || handed?.last === undefined) continue;
      looks.push({ field, batches: handed.batches, beyond: Math.min(lag.byField.get(field) ?? 0, Number(high - 1n - handed.last)) });
    }
    const starved = partitions.observe(looks, fetches);
    health.starved(starved.length > 0 ? starved : undefined);
    const now = new Set(starved.map((p) => p.field));
    const began = starved.filter((p) => !starvedNow.has(p.field));
    const ended = [...starvedNow].filter((field) => !now.has(field));
    starvedNow = now;
    if (began.length > 0) {
      metrics?.projectorStalls.inc({ action: 'report_partition' }, began.length);
      logger.warn(
        { groupId, partitions: began, starved: now.size, lagSampleAgeS: Math.round((performance.now() - lag.at) / 1000) },
        'the consumer hands nothing over for a partition while Kafka holds events past it',
      );
    }
    const fed = ended.filter((field) => assigned.includes(field));
    const released = ended.filter((field) => !assigned.includes(field));
    if (fed.length > 0) logger.info({ groupId, partitions: fed, starved: now.size }, 'the consumer hands events over again for a partition it had starved');
    if (released.length > 0) logger.info({ groupId, partitions: released }, 'a starved partition is no longer assigned to this projector');
  }

  /** Every WATCH_INTERVAL_MS: a stall begins, goes on or ends (src/projector/progress-watch.ts, decision 66). */
  function watchProgress(): void {
    if (health.state() !== 'running' || health.fault() || abort.signal.aborted) return;
    watchPartitions();
    let sampled = 0;
    for (const field of assigned) sampled += lag.byField.get(field) ?? 0;
    const behind = Math.max(sampled, lanes.queued());
    const now = performance.now();
    const publishing = publisher.status();
    const steps = activity.inFlight();
    const rounds = roundsInFlight(now);
    const idle = lanes.queued() === 0 && rounds.length === 0 && steps.length === 0 && !publishing.pending && publishing.step === undefined;
    const fetching = now - fetchedAt < noFetchMs;
    // The oldest step under way that can hang: a round, a publish, an assignment check (a batch
    // waiting for room in the lanes, or a publish waiting for the writes before it, is backpressure).
    const oldest = [
      ...rounds.map((r) => ({ what: `round (${r.kind}, ${r.stage})`, ms: r.ms })),
      ...steps.filter((step) => step.what !== ROOM_WAIT),
      ...(publishing.step !== undefined && publishing.step !== GATE_WAIT ? [{ what: `publish: ${publishing.step}`, ms: publishing.stepMs ?? 0 }] : []),
    ].reduce<StepInFlight | undefined>((a, b) => (a && a.ms >= b.ms ? a : b), undefined);
    // Only on a lag sample taken since the last step (one taken before the catch-up may show events already done).
    const sampledSinceStep = lag.at > lastStepAt;
    const verdict = progress.observe({ behind, steps: activity.count() + publisher.published(), idle, fetching, stuckMs: oldest?.ms ?? 0, sampledSinceStep });
    if (verdict.ended && stalled) endStall();
    if (verdict.stalledMs === 0) return;
    stalled = true;
    health.stalled({ seconds: Math.round(verdict.stalledMs / 1000), eventsWaiting: behind, ...(oldest ? { oldestStep: `${oldest.what} (${oldest.ms} ms)` } : {}) });
    const restart = verdict.restartConsumer;
    if (verdict.began || restart) {
      metrics?.projectorStalls.inc({ action: restart ? 'restart_consumer' : 'report' });
      logger.warn(
        {
          seconds: Math.round(verdict.stalledMs / 1000),
          eventsWaiting: behind,
          idle,
          lastFetchS: Math.round((now - fetchedAt) / 1000),
          lagSampleAgeS: Math.round((now - lag.at) / 1000),
          ...stallReport(steps, rounds, publishing),
        },
        'the projector has made no step while events wait',
      );
    }
    if (restart)
      void restartConsumer(`nothing in flight and no fetch for ${Math.round(verdict.stalledMs / 1000)} s while ${behind} events wait in Kafka`).catch((error: unknown) =>
        logger.error({ err: error }, 'the Kafka consumer could not be restarted'),
      );
  }

  function createConsumer(): Consumer {
    const c = kafka.consumer({
      groupId,
      partitionAssigners: [CoPartitionedAssigner],
      sessionTimeout: config.sessionTimeoutMs ?? SESSION_TIMEOUT_MS,
      rebalanceTimeout: rebalanceTimeoutMs(config.sessionTimeoutMs),
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: FETCH_WAIT_MS,
      maxBytesPerPartition: config.maxBytesPerPartition ?? 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    c.on(c.events.CRASH, (e) => {
      if (consumer !== c) return;
      health.error(`consumer crashed: ${e.payload.error.message}`);
      logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      health.consumerDown(!e.payload.restart);
    });
    // A rejoin fetches nothing until it ends (up to the rebalance timeout): it counts as the consumer's activity.
    c.on(c.events.REBALANCING, () => {
      if (consumer === c) fetchedAt = performance.now();
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      // A consumer replaced (decision 66) that still joins: it is not this projector's any more.
      if (consumer !== c) return;
      fetchedAt = performance.now();
      health.consumerDown(false);
      logger.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined the consumer group');
      // Whatever the lanes held is read again from where Redis says each partition continues.
      lanes.clear();
      committedTo.clear();
      // kafkajs reads every partition again from where Redis says it continues (the assignment check
      // says where); the batch counts go on, so a count after the join never equals one before it.
      for (const field of handedOver.keys()) standAt(field, undefined, true);
      assigned = eventTopicNames.flatMap((topic) => (e.payload.memberAssignment[topic] ?? []).map((p) => `${topic}:${p}`));
      joined = activity.run('checking the assignment', () =>
        idle()
          .then(() => onAssignment(e.payload.memberAssignment))
          .catch((error: unknown) => {
            if (error instanceof IntegrityFault) enterFault(error);
            else logger.warn({ err: error }, 'could not check the assignment');
          }),
      );
    });
    return c;
  }

  return {
    store,
    groupId,
    status: () => ({ ...health.status(), cachedAccounts: cache.size(), queuedEvents: lanes.queued() }),
    fault: () => health.fault(),
    /**
     * Lets go of every cached account no round holds (they are read again from Redis when their
     * events come): the rebuild does once caught up, before it verifies beside this projector.
     */
    dropIdleAccounts: () => cache.trim(0),
    /** Replaces the Kafka consumer (what a stall with nothing in flight does; decision 66). */
    restartConsumer: (reason: string) => restartConsumer(reason),

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
      const c = await connectConsumer();
      publisher.start();
      lagMonitor.start();
      watchTimer = setInterval(watchProgress, WATCH_INTERVAL_MS);
      watchTimer.unref();
      looping = roundLoop();
      await runConsumer(c);
      health.set('running');
      logger.info({ groupId, indices: deps.indices, generation: deps.space.generation }, 'projector running');
    },

    /** Finishes the batch in hand, publishes positions, leaves the group. */
    async stop(): Promise<void> {
      if (health.state() === 'stopped' || health.state() === 'stopping') return;
      health.set('stopping');
      health.starved(undefined);
      abort.abort();
      lanes.release();
      await looping;
      // A restart under way ends first (its new consumer disconnects itself, or is `consumer` now).
      await restarting?.catch(() => undefined);
      await consumer?.disconnect().catch((error) => logger.warn({ err: error }, 'consumer disconnect failed'));
      for (const c of abandoned) await c.disconnect().catch(() => undefined);
      await publisher.stop();
      clearInterval(watchTimer);
      await lagMonitor.stop();
      await producer?.disconnect().catch(() => undefined);
      redis.disconnect();
      unwatchCache?.();
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

/** ms from the Kafka timestamp of the round's oldest event to the round's start (for the debug line) */
function sinceLog(round: Round, startedAtMs: number): number | undefined {
  let oldest = Infinity;
  for (const byAccount of round.taken.values()) for (const entries of byAccount.values()) oldest = Math.min(oldest, entries[0]?.event.event.logMs ?? Infinity);
  return oldest === Infinity ? undefined : Math.round(startedAtMs - oldest);
}
