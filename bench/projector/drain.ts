/**
 * One projector drain: an in-process projector (wired as `access-index project` wires it: config,
 * pino at warn on stderr, metrics) consumes a published backlog until every end offset is
 * searchable. Measured: events/s and documents/s from the metrics registry, the group-join and
 * drain times, CPU of this process and of the servers, the event loop's utilization, where the
 * projector waited (Redis and OpenSearch calls), and the resident memory at the end.
 */
import { appendFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Admin } from 'kafkajs';
import { pino } from 'pino';
import { createClients } from '../../src/clients.ts';
import type { Config } from '../../src/config.ts';
import type { GenerationIndices } from '../../src/generation.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createProjector } from '../../src/projector/projector.ts';
import type { AccountStatePort } from '../../src/ports/account-state.ts';
import type { KeySpace } from '../../src/redis/keys.ts';
import { sleep } from '../../src/retry.ts';
import { type GcPauses, watchGc } from '../support/gc-pauses.ts';
import { type CallStats, createIoTracker, traceOpenSearch, traceRedis } from '../support/io-timing.ts';
import { type CpuSnapshot, cpuBetween, cpuSnapshot, type MachineInfo, threadSchedstat } from '../support/machine.ts';
import { fmt, progress } from '../support/report.ts';

export interface DrainResult {
  events: number;
  /** documents written (user documents and history records, index and delete), from the metrics */
  documents: number;
  documentsByOp: Record<string, number>;
  skipped: Record<string, number>;
  /** start() to the group join (seen by polling the group) */
  joinMs: number;
  /** join to every event applied */
  appliedMs: number;
  /** join to every end offset searchable: the rates' denominator */
  drainMs: number;
  /** start() to every end offset searchable */
  wallMs: number;
  eventsPerSecond: number;
  documentsPerSecond: number;
  batches: { count: number; sumSeconds: number };
  bulk: { count: number; sumSeconds: number };
  /** CPU seconds during the drain (start to searchable): this process, the servers, the machine */
  cpu: CpuSnapshot;
  eventLoopUtilization: number;
  /** seconds this process's main thread (the projector's event loop) was runnable but waiting for a core (the kernel's run-queue wait) */
  waitedForCoreS: number;
  io: Record<string, CallStats>;
  memory: { rssBefore: number; rss: number; heapUsed: number; heapLive: number; external: number; arrayBuffers: number };
  /** how long the event loop was blocked: the longest stall, p99, and stalls over 1 s */
  eventLoop: { maxDelayMs: number; p99DelayMs: number; blocksOver1s: number };
  /** garbage collection pauses of this process during the drain, by kind: total ms and count */
  gc: GcPauses['byKind'];
  cachedAccounts: number;
  /** accounts read from Redis into the cache: all of them, and those the memory budget had dropped (read again) */
  accountLoads: { count: number; seconds: number; afterEviction: number; afterEvictionSeconds: number; evictions: number };
}

async function counterTotals(metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> }, label: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) out[String(v.labels[label] ?? '')] = (out[String(v.labels[label] ?? '')] ?? 0) + v.value;
  return out;
}

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

async function histogramTotals(
  metric: Metrics['bulkSeconds'] | Metrics['accountLoadSeconds'],
  labels: Record<string, string> = {},
): Promise<{ count: number; sumSeconds: number }> {
  const values = (await metric.get()).values.filter((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value));
  const total = (suffix: string) => values.filter((v) => v.metricName?.endsWith(suffix)).reduce((a, v) => a + v.value, 0);
  return { count: total('_count'), sumSeconds: total('_sum') };
}

async function accountLoads(metrics: Metrics): Promise<DrainResult['accountLoads']> {
  const all = await histogramTotals(metrics.accountLoadSeconds);
  const again = await histogramTotals(metrics.accountLoadSeconds, { after: 'eviction' });
  const evictions = (await metrics.accountsEvicted.get()).values.reduce((a, v) => a + v.value, 0);
  return { count: all.count, seconds: all.sumSeconds, afterEviction: again.count, afterEvictionSeconds: again.sumSeconds, evictions };
}

export interface DrainOptions {
  config: Config;
  space: KeySpace;
  indices: GenerationIndices;
  /** a store on the bench's own Redis client (its polling is not counted as the projector's) */
  store: AccountStatePort;
  admin: Admin;
  /** last offset of every `<topic>:<partition>` written */
  endOffsets: ReadonlyMap<string, bigint>;
  events: number;
  machine: MachineInfo;
  timeoutMs: number;
  /** write a CPU profile of the drain (the projector's work only) to this file */
  cpuProfile?: string;
  /** write an allocation profile of the drain (every allocation sampled, garbage included) to this file */
  heapProfile?: string;
  /** the projector's partitionsConsumedConcurrently (its default when unset) */
  concurrency?: number;
  /** the projector's position publish interval (the config's when unset) */
  publishIntervalMs?: number;
  /** append every _bulk body the projector sends to this file (diagnosis: replayed afterwards) */
  captureBulk?: string;
  /** give up when neither applied events nor positions move for this long */
  stallMs?: number;
}

export async function drainBacklog(options: DrainOptions): Promise<DrainResult> {
  const { config, store, admin } = options;
  const logger = pino({ level: 'warn', base: { service: 'access-index', component: 'projector' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
  const clients = createClients(config, logger);
  const io = createIoTracker();
  traceRedis(clients.redis, io);
  traceOpenSearch(clients.opensearch, io, options.captureBulk ? (body) => appendFileSync(options.captureBulk!, `${body}\u0000`) : undefined);
  const metrics = createMetrics();
  const projector = createProjector({
    kafka: clients.kafka,
    redis: clients.redis,
    opensearch: clients.opensearch,
    config,
    space: options.space,
    indices: options.indices,
    logger,
    metrics,
    ...(options.concurrency ? { partitionsConsumedConcurrently: options.concurrency } : {}),
    ...(options.publishIntervalMs ? { publishIntervalMs: options.publishIntervalMs } : {}),
  });

  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage().rss;
  let session: Session | undefined;
  if (options.cpuProfile) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
  }
  let heapSession: Session | undefined;
  if (options.heapProfile) {
    // What the garbage collector has to collect: allocations sampled whether or not they live on.
    heapSession = new Session();
    heapSession.connect();
    await heapSession.post('HeapProfiler.enable');
    await heapSession.post('HeapProfiler.startSampling', { samplingInterval: 65_536, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  const cpu0 = cpuSnapshot(options.machine.pids);
  const sched0 = threadSchedstat(process.pid);
  const elu0 = performance.eventLoopUtilization();
  const gcWatch = watchGc();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const t0 = performance.now();
  let joined = 0;
  let applied = 0;
  let done = 0;
  let blocksOver1s = 0;
  const stopProfile = async () => {
    if (heapSession) {
      const { profile } = await heapSession.post('HeapProfiler.stopSampling');
      heapSession.disconnect();
      heapSession = undefined;
      await writeFile(options.heapProfile!, JSON.stringify(profile));
      progress(`  allocation profile of the drain written to ${options.heapProfile}`);
    }
    if (!session) return;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    session = undefined;
    await writeFile(options.cpuProfile!, JSON.stringify(profile));
    progress(`  CPU profile of the drain written to ${options.cpuProfile}`);
  };
  try {
    await projector.start();
    const deadline = t0 + options.timeoutMs;
    let lastReport = t0;
    let lastJoinCheck = 0;
    let lastTick = performance.now();
    let lastProgress = t0;
    let lastSeen = '';
    for (;;) {
      const now = performance.now();
      // One poll takes a few ms; a long one means the event loop was busy with the projector's work.
      if (now - lastTick > 1_000) {
        blocksOver1s += 1;
        progress(`  one poll of the bench took ${fmt((now - lastTick) / 1000, 1)} s: the event loop was blocked`);
      }
      lastTick = now;
      if (joined === 0 && now - lastJoinCheck >= 25) {
        lastJoinCheck = now;
        const [group] = (await admin.describeGroups([projector.groupId])).groups;
        if (group?.state === 'Stable' && group.members.length > 0) joined = performance.now();
      }
      const appliedCount = sum(await counterTotals(metrics.eventsApplied, 'type'));
      if (applied === 0 && appliedCount >= options.events) applied = performance.now();
      const positions = await store.positions();
      if ([...options.endOffsets].every(([field, offset]) => (positions.get(field) ?? -1n) >= offset)) {
        done = performance.now();
        break;
      }
      const seen = `${appliedCount} ${[...positions.values()].join(',')}`;
      if (seen !== lastSeen) {
        lastSeen = seen;
        lastProgress = now;
      }
      const state = () => {
        const status = projector.status();
        return `${fmt(appliedCount)} of ${fmt(options.events)} events applied; projector ${status.state}${status.lastError ? `, last error: ${status.lastError.message.slice(0, 160)}` : ''}; longest event-loop stall ${fmt(loopDelay.max / 1e9, 1)} s`;
      };
      if (now > deadline) throw new Error(`drain: not searchable after ${fmt(options.timeoutMs / 1000)} s (${state()})`);
      if (now - lastProgress > (options.stallMs ?? 120_000)) throw new Error(`drain stalled: no progress for ${fmt((now - lastProgress) / 1000)} s (${state()})`);
      if (now - lastReport >= 3_000) {
        lastReport = now;
        progress(`  projector: ${fmt(appliedCount)} / ${fmt(options.events)} events applied, ${fmt((appliedCount * 1000) / (now - (joined || t0)))} events/s`);
      }
      await sleep(10);
    }
  } catch (error) {
    loopDelay.disable();
    gcWatch.stop();
    await stopProfile().catch(() => undefined);
    // A stalled projector may never finish its batch: do not wait for it.
    await Promise.race([projector.stop().catch(() => undefined), sleep(10_000)]);
    await clients.close();
    throw error;
  }
  loopDelay.disable();
  const gcTotals = gcWatch.stop();
  const cpu1 = cpuSnapshot(options.machine.pids);
  const sched1 = threadSchedstat(process.pid);
  const elu = performance.eventLoopUtilization(elu0);
  const memory = process.memoryUsage();
  // The live heap (what the projector keeps), when the bench runs with --expose-gc.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapLive = gc ? process.memoryUsage().heapUsed : Number.NaN;
  await stopProfile();
  const ioStats = io.snapshot();
  const documentsByOp = await counterTotals(metrics.documentsWritten, 'op');
  const skipped = await counterTotals(metrics.eventsSkipped, 'reason');
  const events = sum(await counterTotals(metrics.eventsApplied, 'type'));
  const batches = await histogramTotals(metrics.batchSeconds);
  const bulk = await histogramTotals(metrics.bulkSeconds);
  const cachedAccounts = projector.status().cachedAccounts;
  const loads = await accountLoads(metrics);
  await projector.stop();
  await clients.close();
  if (joined === 0) joined = t0;
  const drainMs = done - joined;
  const documents = sum(documentsByOp);
  return {
    events,
    documents,
    documentsByOp,
    skipped,
    joinMs: joined - t0,
    appliedMs: (applied || done) - joined,
    drainMs,
    wallMs: done - t0,
    eventsPerSecond: (events * 1000) / drainMs,
    documentsPerSecond: (documents * 1000) / drainMs,
    batches,
    bulk,
    cpu: cpuBetween(cpu0, cpu1),
    eventLoopUtilization: elu.utilization,
    waitedForCoreS: sched1.waitS - sched0.waitS,
    io: ioStats,
    memory: { rssBefore, rss: memory.rss, heapUsed: memory.heapUsed, heapLive, external: memory.external, arrayBuffers: memory.arrayBuffers },
    cachedAccounts,
    accountLoads: loads,
    eventLoop: { maxDelayMs: loopDelay.max / 1e6, p99DelayMs: loopDelay.percentile(99) / 1e6, blocksOver1s },
    gc: gcTotals.byKind,
  };
}
