/**
 * A live pipeline for the latency and freshness benches, in a bench namespace: topics (4
 * partitions, as the product creates them), the live generation's indices, a projector in this
 * process (wired as `access-index project` wires it: the config's publish interval, metrics, pino
 * at warn on stderr), a history split into a dataset and a churn stream, and a producer that
 * publishes churn at a steady rate.
 */
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { pino } from 'pino';
import { type Clients, createClients } from '../../src/clients.ts';
import { benchPreset, type GeneratedEvent, generateHistory } from '../../src/demo/generator.ts';
import { createOrderedProducer, publishHistory, type PublishResult } from '../../src/demo/publish.ts';
import { type GenerationIndices, openLiveGeneration } from '../../src/generation.ts';
import { endOffsets as topicEndOffsets, ensureTopics, eventTopics } from '../../src/kafka/client.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createProjector, type Projector } from '../../src/projector/projector.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import type { AccountStatePort } from '../../src/ports/account-state.ts';
import type { KeySpace } from '../../src/redis/keys.ts';
import { sleep } from '../../src/retry.ts';
import type { BenchNamespace } from './bench-namespace.ts';
import { gcTotalMs, watchGc } from './gc-pauses.ts';
import { type CallStats, createIoTracker, type IoTracker, traceOpenSearch, traceRedis } from './io-timing.ts';
import { cpuBetween, cpuSnapshot, type MachineInfo, processCpuSeconds, threadSchedstat } from './machine.ts';
import { fmt, progress } from './report.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

export interface LivePipeline {
  ns: BenchNamespace;
  clients: Clients;
  admin: Admin;
  space: KeySpace;
  indices: GenerationIndices;
  /** a store on the bench's own Redis client */
  store: AccountStatePort;
  eventTopics: string[];
  /** last offset of every non-empty partition of the event topics */
  endOffsets(): Promise<Map<string, bigint>>;
  /** messages not yet searchable (end offsets minus published positions) */
  lag(): Promise<number>;
  /**
   * Resolves when every given position is searchable; returns the ms waited. `onProgress`, if
   * given, hears every 10 s how many of the messages up to `ends` are searchable, and the ms waited.
   */
  waitSearchable(ends: ReadonlyMap<string, bigint>, timeoutMs: number, onProgress?: (searchable: number, waitedMs: number) => void): Promise<number>;
  close(): Promise<void>;
}

export async function openLivePipeline(ns: BenchNamespace): Promise<LivePipeline> {
  const { config } = ns;
  const clients = createClients(config, silentLogger());
  const admin = clients.kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config.topics, 4);
  const { generation, indices } = await openLiveGeneration(clients.redis, clients.opensearch, config.namespace);
  const space = { namespace: config.namespace, generation };
  const store = createAccountStore(clients.redis, space);
  const topicNames = eventTopics(config.topics);
  const endOffsets = (): Promise<Map<string, bigint>> => topicEndOffsets(admin, topicNames);

  return {
    ns,
    clients,
    admin,
    space,
    indices,
    store,
    eventTopics: topicNames,
    endOffsets,
    async lag() {
      const [ends, positions] = await Promise.all([endOffsets(), store.positions()]);
      let lag = 0n;
      for (const [field, end] of ends) lag += end - (positions.get(field) ?? -1n);
      return Number(lag);
    },
    async waitSearchable(ends, timeoutMs, onProgress) {
      const started = performance.now();
      let reported = started;
      for (;;) {
        const positions = await store.positions();
        if ([...ends].every(([field, offset]) => (positions.get(field) ?? -1n) >= offset)) return performance.now() - started;
        if (performance.now() - started > timeoutMs) throw new Error(`not searchable after ${timeoutMs} ms`);
        if (onProgress && performance.now() - reported >= 10_000) {
          reported = performance.now();
          let searchable = 0n;
          for (const [field, end] of ends) {
            const at = positions.get(field) ?? -1n;
            searchable += (at < end ? at : end) + 1n;
          }
          onProgress(Number(searchable), reported - started);
        }
        await sleep(10);
      }
    },
    async close() {
      await admin.disconnect().catch(() => undefined);
      await clients.close();
    },
  };
}

/* ------------------------------------------------------------------ the history */

export interface SplitHistory {
  /** events of the dataset (the first `datasetEvents` of the history) */
  datasetEvents: number;
  dataset: Iterable<GeneratedEvent>;
  /** the same history's continuation: day-to-day churn of the same accounts */
  churn: Iterator<GeneratedEvent>;
  accounts: string[];
}

/**
 * benchPreset(scale) with every account's event budget multiplied by `factor`: its first
 * `benchPreset(scale)` events (every account's bootstrap and early churn) are the dataset, the rest
 * is churn to publish live. The generator is lazy: only what is pulled is made.
 */
export function splitHistory(scale: number, seed: number, factor: number, accounts = 0): SplitHistory {
  const full = benchPreset(scale);
  // `accounts` > 0 keeps the bench's first (largest) accounts only: acc_bench_001 has 50,000 agents at scale 1.
  const preset = accounts > 0 ? { ...full, accounts: full.accounts.slice(0, accounts) } : full;
  const datasetEvents = preset.accounts.reduce((sum, a) => sum + a.events, 0);
  const iterator = generateHistory({ seed, ...preset, accounts: preset.accounts.map((a) => ({ ...a, events: Math.ceil(a.events * factor) })) });
  let taken = false;
  const dataset: Iterable<GeneratedEvent> = {
    [Symbol.iterator]() {
      if (taken) throw new Error('the dataset can be iterated once');
      taken = true;
      return take(iterator, datasetEvents);
    },
  };
  return { datasetEvents, dataset, churn: iterator, accounts: preset.accounts.map((a) => a.id) };
}

/** Publishes `events` (progress every 3 s on stderr). */
export async function publishDataset(pipeline: LivePipeline, events: Iterable<GeneratedEvent>): Promise<PublishResult> {
  const { topics } = pipeline.ns.config;
  let last = 0;
  const result = await publishHistory({
    kafka: pipeline.clients.kafka,
    topics: { users: topics.users, roles: topics.roles, queues: topics.queues, inboxes: topics.inboxes },
    events,
    onProgress: (p) => {
      if (p.elapsedMs - last < 3_000) return;
      last = p.elapsedMs;
      progress(`  published ${fmt(p.sent)} events, ${fmt(p.rate)} events/s`);
    },
  });
  progress(`  published ${fmt(result.total)} events in ${fmt(result.elapsedMs / 1000, 1)} s`);
  return result;
}

/** The next `count` events of an iterator, without closing it. */
export function* take<T>(iterator: Iterator<T>, count: number): Generator<T> {
  for (let i = 0; i < count; i++) {
    const next = iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

export interface CapacityResult {
  events: number;
  publishMs: number;
  /** first send to every event searchable */
  searchableMs: number;
  /** events / searchableMs: a lower bound of what the projector sustains on this mix */
  eventsPerSecond: number;
}

/**
 * The projector's sustained capacity on churn: `count` churn events published as fast as Kafka
 * takes them (much faster than the projector applies them) while the projector runs; the rate is
 * the events over the time from the first send to all of them searchable.
 */
export async function measureChurnCapacity(pipeline: LivePipeline, churn: Iterator<GeneratedEvent>, count: number): Promise<CapacityResult> {
  const t0 = performance.now();
  const { topics } = pipeline.ns.config;
  const published = await publishHistory({
    kafka: pipeline.clients.kafka,
    topics: { users: topics.users, roles: topics.roles, queues: topics.queues, inboxes: topics.inboxes },
    events: take(churn, count),
  });
  const publishMs = performance.now() - t0;
  await pipeline.waitSearchable(published.lastOffsets, 600_000);
  const searchableMs = performance.now() - t0;
  return { events: published.total, publishMs, searchableMs, eventsPerSecond: (published.total * 1000) / searchableMs };
}

/* ------------------------------------------------------------------ the projector, in this process */

export interface RunningProjector {
  projector: Projector;
  metrics: Metrics;
  /** the projector's Redis and OpenSearch calls (bench/support/io-timing.ts) */
  io: IoTracker;
  /** start() to joining the consumer group */
  joinMs: number;
  /** what the projector did since the last call (or since it started) */
  window(): Promise<ProjectorWindow>;
  stop(): Promise<void>;
}

/** The projector's work over a window: where its time went. */
export interface ProjectorWindow {
  ms: number;
  events: number;
  batches: number;
  /** mean time to project one Kafka batch (decode to durable) */
  batchMsMean: number;
  eventsPerBatch: number;
  bulkRequests: number;
  bulkMsMean: number;
  documents: number;
  /** share of the window the event loop of this process was busy (projector + bench harness) */
  eventLoopUtilization: number;
  /**
   * how late the event loop ran a timer in the window (ms, p50 / p99 / max): the longest stretches of
   * synchronous work, which every await of the projector (a Redis reply, a gate's turn) waits behind
   */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** garbage collection in the window: its pauses' total and longest (ms) */
  gcMs: { total: number; max: number };
  /**
   * the share of the window this process's main thread (the projector's, and the harness's) was
   * runnable but waiting for a core (the kernel's run-queue wait): time the event loop counts as
   * busy, in which nothing of it ran, because the machine's other processes had both cores
   */
  waitedForCore: number;
  /** CPU cores used: this process, OpenSearch, Kafka, Redis, the whole machine */
  cores: { self: number; opensearch: number; kafka: number; redis: number; machine: number; others: Record<string, number>; rest: number };
  io: Record<string, CallStats & { busyPct: number }>;
  /** mean ms per round of each stage (access_index_round_stage_seconds: lane, check, commit, write, publish) */
  stagesMs: Record<string, number>;
}

const STAGES = ['lane', 'check', 'commit', 'write', 'publish'] as const;

async function totals(
  metric: { get(): Promise<{ values: { value: number; metricName?: string; labels: Record<string, string | number | undefined> }[] }> },
  suffix?: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return (await metric.get()).values
    .filter((v) => (suffix === undefined || v.metricName?.endsWith(suffix)) && Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((a, v) => a + v.value, 0);
}

/** Sum and count of each round stage so far. */
async function stageTotals(metrics: Metrics): Promise<Record<string, { sum: number; count: number }>> {
  const entries = STAGES.map(async (stage) => [
    stage,
    { sum: await totals(metrics.roundStageSeconds, '_sum', { stage }), count: await totals(metrics.roundStageSeconds, '_count', { stage }) },
  ]);
  return Object.fromEntries(await Promise.all(entries));
}

/**
 * Starts a projector in this process on the pipeline's live generation and waits for its group join.
 * Its log (JSON on stderr) is at `warn` unless BENCH_PROJECTOR_LOG says otherwise: `debug` logs each
 * round (its kind, accounts, events applied, documents written, events waiting).
 */
export async function startInProcessProjector(pipeline: LivePipeline, machine?: MachineInfo, otherPids: () => Record<string, number> = () => ({})): Promise<RunningProjector> {
  const { config } = pipeline.ns;
  const logger = pino(
    { level: process.env.BENCH_PROJECTOR_LOG ?? 'warn', base: { service: 'access-index', component: 'projector' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination(2),
  );
  const clients = createClients(config, logger);
  const io = createIoTracker();
  traceRedis(clients.redis, io);
  traceOpenSearch(clients.opensearch, io);
  const metrics = createMetrics();
  const projector = createProjector({
    kafka: clients.kafka,
    redis: clients.redis,
    opensearch: clients.opensearch,
    config,
    space: pipeline.space,
    indices: pipeline.indices,
    logger,
    metrics,
  });
  const t0 = performance.now();
  await projector.start();
  for (;;) {
    const [group] = (await pipeline.admin.describeGroups([projector.groupId])).groups;
    if (group?.state === 'Stable' && group.members.length > 0) break;
    if (performance.now() - t0 > 120_000) throw new Error('the projector did not join its group within 120 s');
    await sleep(25);
  }
  const pids = machine?.pids ?? {};
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const gc = watchGc();
  const mark = async () => ({
    at: performance.now(),
    others: Object.fromEntries(Object.entries(otherPids()).map(([name, pid]) => [name, processCpuSeconds(pid)])),
    elu: performance.eventLoopUtilization(),
    cpu: cpuSnapshot(pids),
    sched: threadSchedstat(process.pid),
    events: await totals(metrics.eventsApplied),
    batches: await totals(metrics.batchSeconds, '_count'),
    batchSeconds: await totals(metrics.batchSeconds, '_sum'),
    bulk: await totals(metrics.bulkSeconds, '_count'),
    bulkSeconds: await totals(metrics.bulkSeconds, '_sum'),
    documents: await totals(metrics.documentsWritten),
    stages: await stageTotals(metrics),
    io: io.snapshot(),
  });
  let last = await mark();
  return {
    projector,
    metrics,
    io,
    joinMs: performance.now() - t0,
    async window() {
      const now = await mark();
      const a = last;
      last = now;
      const ms = now.at - a.at;
      const loopDelayMs = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      loopDelay.reset();
      const gcWindow = gc.take();
      const cpu = cpuBetween(a.cpu, now.cpu);
      const batches = now.batches - a.batches;
      const bulk = now.bulk - a.bulk;
      const ioDiff: ProjectorWindow['io'] = {};
      for (const [kind, s] of Object.entries(now.io)) {
        const before = a.io[kind] ?? { calls: 0, sumMs: 0, busyMs: 0, bytes: 0 };
        const busyMs = s.busyMs - before.busyMs;
        ioDiff[kind] = { calls: s.calls - before.calls, sumMs: s.sumMs - before.sumMs, busyMs, bytes: s.bytes - before.bytes, busyPct: (100 * busyMs) / ms };
      }
      const secs = ms / 1000;
      const others = Object.fromEntries(
        Object.entries(now.others)
          .filter(([name]) => a.others[name] !== undefined)
          .map(([name, v]) => [name, (v - a.others[name]!) / secs]),
      );
      // CPU seconds of the processes we can name; the rest of the machine's busy time is everyone else.
      const known = [cpu.self, cpu.opensearch, cpu.kafka, cpu.redis, ...Object.values(others).map((c) => c * secs)].filter(Number.isFinite).reduce((x, y) => x + y, 0);
      return {
        ms,
        events: now.events - a.events,
        batches,
        batchMsMean: batches > 0 ? ((now.batchSeconds - a.batchSeconds) * 1000) / batches : Number.NaN,
        eventsPerBatch: batches > 0 ? (now.events - a.events) / batches : Number.NaN,
        bulkRequests: bulk,
        bulkMsMean: bulk > 0 ? ((now.bulkSeconds - a.bulkSeconds) * 1000) / bulk : Number.NaN,
        documents: now.documents - a.documents,
        eventLoopUtilization: performance.eventLoopUtilization(now.elu, a.elu).utilization,
        loopDelayMs,
        gcMs: { total: gcTotalMs(gcWindow), max: gcWindow.maxMs },
        waitedForCore: (now.sched.waitS - a.sched.waitS) / secs,
        cores: {
          self: cpu.self / secs,
          opensearch: cpu.opensearch / secs,
          kafka: cpu.kafka / secs,
          redis: cpu.redis / secs,
          machine: cpu.machineBusy / secs,
          others,
          rest: (cpu.machineBusy - known) / secs,
        },
        io: ioDiff,
        stagesMs: Object.fromEntries(
          STAGES.map((stage) => {
            const count = now.stages[stage]!.count - a.stages[stage]!.count;
            return [stage, count > 0 ? ((now.stages[stage]!.sum - a.stages[stage]!.sum) * 1000) / count : Number.NaN];
          }),
        ),
      };
    },
    async stop() {
      loopDelay.disable();
      gc.stop();
      await projector.stop();
      await clients.close();
    },
  };
}

/** OpenSearch operations (index and delete) per event projected in the window (0 without events). */
export const operationsPerEvent = (w: ProjectorWindow): number => (w.events > 0 ? w.documents / w.events : 0);

/** One line about a projector window, for progress output. */
export function describeWindow(w: ProjectorWindow): string {
  const busy = (kind: string) => fmt(w.io[kind]?.busyPct ?? 0);
  return `projector: ${fmt((w.events * 1000) / w.ms)} events/s, ${fmt(w.batches)} batches (${fmt(w.eventsPerBatch, 1)} events, ${fmt(w.batchMsMean)} ms each), ${fmt(w.bulkRequests)} _bulk (${fmt(w.bulkMsMean)} ms), ${fmt(w.documents)} OpenSearch operations (${fmt(operationsPerEvent(w), 2)} per event), event loop ${fmt(100 * w.eventLoopUtilization)}% busy (late p50 / p99 / max ${fmt(w.loopDelayMs.p50)} / ${fmt(w.loopDelayMs.p99)} / ${fmt(w.loopDelayMs.max)} ms; GC ${fmt((100 * w.gcMs.total) / w.ms)} %, longest pause ${fmt(w.gcMs.max)} ms; waiting for a core ${fmt(100 * w.waitedForCore)} %), ${fmt(w.cores.self, 2)} cores; busy %: redis ${fmt(
    Object.entries(w.io)
      .filter(([k]) => k.startsWith('redis'))
      .reduce((a, [, s]) => Math.max(a, s.busyPct), 0),
  )}, _bulk ${busy('opensearch _bulk')}, _refresh ${busy('opensearch _refresh')}; cores: machine ${fmt(w.cores.machine, 2)} busy, OpenSearch ${fmt(w.cores.opensearch, 2)}, Kafka ${fmt(w.cores.kafka, 2)}, Redis ${fmt(w.cores.redis, 2)}${Object.entries(
    w.cores.others,
  )
    .map(([k, v]) => `, ${k} ${fmt(v, 2)}`)
    .join('')}, everything else ${fmt(w.cores.rest, 2)}; round stages, mean ms: ${Object.entries(w.stagesMs)
    .map(([stage, ms]) => `${stage} ${fmt(ms)}`)
    .join(', ')}`;
}

/* ------------------------------------------------------------------ steady production */

export interface ProducedSample {
  topic: string;
  partition: number;
  offset: bigint;
  accountId: string;
  type: string;
  userId: string | undefined;
  /** performance.now() just before the send of this event */
  sentAt: number;
  /** send to acknowledgement, ms */
  ackMs: number;
}

export interface SteadyProducerOptions {
  kafka: Kafka;
  /** logical topic -> physical topic */
  topics: Record<GeneratedEvent['topic'], string>;
  events: Iterator<GeneratedEvent>;
  /** events per second */
  rate: number;
  tickMs?: number;
  /** every this many ms, one event is sent on its own and reported (its offset is then exact) */
  sampleEveryMs?: number;
  onSample?: (sample: ProducedSample) => void;
}

export interface SteadyProducerResult {
  sent: number;
  elapsedMs: number;
  /** achieved events per second */
  rate: number;
  /** most events that were due but not yet sent at a tick (the producer falling behind) */
  maxBehind: number;
  samples: number;
  exhausted: boolean;
  /**
   * events taken from the churn stream, those an account filter passed over included (set by the
   * producer process): where the next producer of the same stream starts
   */
  drawn?: number;
}

export interface SteadyProducer {
  sent(): number;
  stop(): Promise<SteadyProducerResult>;
}

/**
 * Publishes `events` at `rate` events/s: on every tick, what is due since the start goes out in one
 * batch (one send at a time, so each partition keeps the history's order); sampled events go on
 * their own right after.
 */
export async function startSteadyProducer(options: SteadyProducerOptions): Promise<SteadyProducer> {
  const tickMs = options.tickMs ?? 20;
  const producer: Producer = createOrderedProducer(options.kafka);
  await producer.connect();
  let stopped = false;
  let sent = 0;
  let maxBehind = 0;
  let samples = 0;
  let exhausted = false;
  const started = performance.now();
  let nextSample = started + (options.sampleEveryMs ?? Number.POSITIVE_INFINITY);
  const message = (e: GeneratedEvent) => ({ key: e.key, value: JSON.stringify(e.value) });

  const loop = (async () => {
    while (!stopped) {
      const tickStart = performance.now();
      const due = Math.floor((options.rate * (tickStart - started)) / 1000) - sent;
      maxBehind = Math.max(maxBehind, due);
      if (due > 0) {
        const batch: GeneratedEvent[] = [];
        for (let i = 0; i < due; i++) {
          const next = options.events.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          batch.push(next.value);
        }
        const sample = options.onSample && tickStart >= nextSample && batch.length > 0 ? batch.pop() : undefined;
        if (batch.length > 0) {
          const byTopic = new Map<string, { key: string; value: string }[]>();
          for (const e of batch) {
            const topic = options.topics[e.topic];
            const list = byTopic.get(topic) ?? [];
            list.push(message(e));
            byTopic.set(topic, list);
          }
          await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
          sent += batch.length;
        }
        if (sample) {
          nextSample += options.sampleEveryMs!;
          if (nextSample < tickStart) nextSample = tickStart + options.sampleEveryMs!;
          const topic = options.topics[sample.topic];
          const sentAt = performance.now();
          const [meta] = await producer.send({ topic, acks: -1, messages: [message(sample)] });
          const ackMs = performance.now() - sentAt;
          sent += 1;
          samples += 1;
          const data = sample.value.data as { user_id?: string };
          options.onSample!({
            topic,
            partition: meta!.partition,
            offset: BigInt(meta!.baseOffset!),
            accountId: sample.key,
            type: sample.value.type,
            userId: data.user_id,
            sentAt,
            ackMs,
          });
        }
        if (exhausted) {
          progress(`  WARNING: the churn stream ran out after ${fmt(sent)} events`);
          break;
        }
      }
      await sleep(Math.max(0, tickMs - (performance.now() - tickStart)));
    }
  })();
  loop.catch(() => undefined);

  return {
    sent: () => sent,
    async stop() {
      stopped = true;
      await loop;
      await producer.disconnect();
      const elapsedMs = performance.now() - started;
      return { sent, elapsedMs, rate: (sent * 1000) / elapsedMs, maxBehind, samples, exhausted };
    },
  };
}

/** Samples a value every `everyMs` until stopped (e.g. the lag while producing). */
export function sampleEvery<T>(everyMs: number, read: () => Promise<T>): { stop(): Promise<T[]> } {
  let stopped = false;
  const values: T[] = [];
  const loop = (async () => {
    while (!stopped) {
      await sleep(everyMs);
      if (stopped) break;
      values.push(await read());
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
      return values;
    },
  };
}

/* ------------------------------------------------------------------ steady production in its own process */

export interface SampleAt extends Omit<ProducedSample, 'sentAt'> {
  /** wall clock (ms since the epoch, fractional) just before the send */
  sentAtEpochMs: number;
}

export interface ProducerProcess {
  pid: number;
  stop(): Promise<SteadyProducerResult>;
}

/** What names the churn and where it goes: the part of a ProducerJob every bench call shares. */
export function churnOf(pipeline: LivePipeline, scale: number, seed: number, factor: number): Pick<ProducerJob, 'brokers' | 'topics' | 'scale' | 'seed' | 'factor'> {
  const { kafkaBrokers, topics } = pipeline.ns.config;
  return { brokers: kafkaBrokers, topics: { users: topics.users, roles: topics.roles, queues: topics.queues, inboxes: topics.inboxes }, scale, seed, factor };
}

/**
 * Publishes churn of the history `splitHistory(scale, seed, factor)` at `rate` from a child process
 * (bench/support/producer-worker.ts), skipping the dataset and the first `skip` churn events. Resolves
 * once it is producing; stop() (or `durationMs`) ends it.
 */
export function startProducerProcess(job: Omit<ProducerJob, 'durationMs'> & { durationMs?: number; onSample?: (sample: SampleAt) => void }): Promise<ProducerProcess> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = fork(join(here, 'producer-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { onSample, ...rest } = job;
  let resolveDone: (r: SteadyProducerResult) => void = () => {};
  let rejectDone: (e: Error) => void = () => {};
  const done = new Promise<SteadyProducerResult>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => undefined);
  return new Promise((resolveStarted, rejectStarted) => {
    child.on('message', (message: ProducerMessage) => {
      if (message.kind === 'started') resolveStarted({ pid: child.pid!, stop: () => (child.connected && child.send('stop'), done) });
      else if (message.kind === 'sample') onSample?.({ ...message.sample, offset: BigInt(message.sample.offset) });
      else if (message.kind === 'done') resolveDone(message.result);
      else {
        const error = new Error(`producer process: ${message.error}`);
        rejectStarted(error);
        rejectDone(error);
      }
    });
    child.on('exit', (code) => {
      const error = new Error(`producer process exited (${code})`);
      rejectStarted(error);
      rejectDone(error);
    });
    child.send({ durationMs: 3_600_000, ...rest } satisfies ProducerJob);
  });
}

/** What the churn producer process (producer-worker.ts) is told, and what it reports. */
export interface ProducerJob {
  brokers: string[];
  topics: { users: string; roles: string; queues: string; inboxes: string };
  scale: number;
  seed: number;
  factor: number;
  /** churn events already published (skipped here) */
  skip: number;
  rate: number;
  durationMs: number;
  sampleEveryMs?: number;
  /** only the churn of these accounts (the others' events are skipped); all when absent */
  accounts?: string[];
}

export type ProducerMessage =
  | { kind: 'started' }
  | { kind: 'sample'; sample: Omit<ProducedSample, 'offset' | 'sentAt'> & { offset: string; sentAtEpochMs: number } }
  | { kind: 'done'; result: SteadyProducerResult }
  | { kind: 'error'; error: string };
