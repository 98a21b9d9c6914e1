/**
 * Projector throughput against its ceilings on the same machine, in the same run:
 *
 *   1. publish benchPreset(scale) into a fresh namespace (4 partitions per topic);
 *   2. drain the backlog with an in-process projector: events/s, documents/s, time until every end
 *      offset is searchable, resident memory at the end;
 *   3. the raw kafkajs consume ceiling (a fresh group that only counts);
 *   4. the raw OpenSearch `_bulk` ceiling for the same documents (read back, indexed again into
 *      fresh indices with the same mapping, 1 and 2 concurrent streams);
 *   5. the ratios projector ÷ ceiling; then the namespace is deleted (also on failure or Ctrl-C).
 *
 * Each run is a fresh Node process (so that memory and JIT state do not carry over); `--runs`
 * repeats it and the summary gives medians. Progress on stderr; the table (or `--json`) on stdout.
 *
 *   npx tsx bench/projector-throughput.ts [--scale 0.05] [--runs 3] [--seed 42] [--json] [--out file]
 *       [--cpu-profile file] [--heap-profile file] [--diagnose] [--concurrency N] [--publish-interval-ms N]
 */
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchPreset, generateHistory } from '../src/demo/generator.ts';
import { publishHistory } from '../src/demo/publish.ts';
import { type BulkCeilingResult, measureBulkCeiling, measureStreams, type ReplayResult, replayBulkBodies, spoolGeneration } from './ceilings/bulk-ceiling.ts';
import { type ConsumeCeilingResult, measureConsumeCeiling } from './ceilings/consume-ceiling.ts';
import { type DrainResult, drainBacklog } from './projector/drain.ts';
import { PARTITIONS_IN_FLIGHT } from '../src/projector/projector.ts';
import { parseFlags } from './support/args.ts';
import { createBenchNamespace } from './support/bench-namespace.ts';
import { type LivePipeline, openLivePipeline } from './support/live-pipeline.ts';
import { describeMachine, type MachineInfo } from './support/machine.ts';
import { fmt, median, mib, progress, table } from './support/report.ts';

export interface ProjectorBenchOptions {
  scale: number;
  runs: number;
  seed: number;
  /** upper bound of one drain */
  timeoutMs: number;
  /** CPU profile of the first run's drain */
  cpuProfile?: string;
  heapProfile?: string;
  /** also measure the diagnostic variants (bulk ceiling with the projector's refreshes, replay of the projector's own requests) */
  diagnose?: boolean;
  /** projector knobs, for experiments (the product's defaults when unset) */
  concurrency?: number;
  publishIntervalMs?: number;
  /** a drain without progress for this long fails its run */
  stallMs?: number;
}

export interface ProjectorRun {
  namespace: string;
  /** the projector's settings in this run (environment overrides included) */
  settings: { sessionTimeoutMs: number; maxBytesPerPartition: number; publishIntervalMs: number; partitionsConsumedConcurrently: number };
  published: { events: number; counts: Record<string, number>; ms: number; partitions: number };
  drain: DrainResult;
  consume: ConsumeCeilingResult;
  readBack: { users: number; facts: number; ms: number };
  bulk: BulkCeilingResult[];
  bulkBest: BulkCeilingResult;
  ratios: { documents: number; events: number };
  diagnosis?: { bulkWithRefreshes: BulkCeilingResult; replay: ReplayResult };
}

export interface ProjectorBenchReport {
  bench: 'projector-throughput';
  at: string;
  options: ProjectorBenchOptions;
  machine: MachineInfo;
  runs: ProjectorRun[];
  /** runs that did not complete (a stalled or timed-out drain), with the reason */
  failures: { run: number; message: string }[];
  medians: Record<string, number>;
}

/** One run in this process: publish, drain, ceilings, cleanup. */
export async function runOnce(options: ProjectorBenchOptions, machine: MachineInfo, index: number): Promise<ProjectorRun> {
  const ns = createBenchNamespace();
  const { config } = ns;
  progress(`run ${index + 1}/${options.runs}: namespace ${ns.prefix}`);
  const captureFile = options.diagnose ? join(tmpdir(), `${ns.prefix}-bulk-bodies`) : undefined;
  let pipeline: LivePipeline | undefined;
  try {
    pipeline = await openLivePipeline(ns);
    const { clients, admin, space, indices, store, eventTopics } = pipeline;

    progress(`  publishing benchPreset(${options.scale}) with seed ${options.seed}`);
    let lastReport = 0;
    const published = await publishHistory({
      kafka: clients.kafka,
      topics: { users: config.topics.users, roles: config.topics.roles, queues: config.topics.queues, inboxes: config.topics.inboxes },
      events: generateHistory({ seed: options.seed, ...benchPreset(options.scale) }),
      onProgress: (p) => {
        if (p.elapsedMs - lastReport < 3_000) return;
        lastReport = p.elapsedMs;
        progress(`  published ${fmt(p.sent)} events, ${fmt(p.rate)} events/s`);
      },
    });
    progress(`  published ${fmt(published.total)} events in ${fmt(published.elapsedMs / 1000, 1)} s into ${published.lastOffsets.size} partitions`);

    progress('  draining the backlog with an in-process projector');
    const drain = await drainBacklog({
      config,
      space,
      indices,
      store,
      admin,
      endOffsets: published.lastOffsets,
      events: published.total,
      machine,
      timeoutMs: options.timeoutMs,
      ...(options.cpuProfile && index === 0 ? { cpuProfile: options.cpuProfile } : {}),
      ...(options.heapProfile && index === 0 ? { heapProfile: options.heapProfile } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.publishIntervalMs ? { publishIntervalMs: options.publishIntervalMs } : {}),
      ...(captureFile ? { captureBulk: captureFile } : {}),
      ...(options.stallMs ? { stallMs: options.stallMs } : {}),
    });
    if (drain.events !== published.total) progress(`  WARNING: ${drain.events} events applied of ${published.total} published`);
    progress(
      `  drained: ${fmt(drain.eventsPerSecond)} events/s, ${fmt(drain.documentsPerSecond)} documents/s, searchable after ${fmt(drain.wallMs / 1000, 1)} s, rss ${mib(drain.memory.rss)}`,
    );

    progress('  consume ceiling: a fresh group that only counts');
    const consume = await measureConsumeCeiling({
      kafka: clients.kafka,
      groupId: `${config.namespace}-consume-ceiling`,
      topics: eventTopics,
      expected: published.total,
      timeoutMs: options.timeoutMs,
    });
    progress(`  consume ceiling: ${fmt(consume.eventsPerSecond)} events/s`);

    progress('  bulk ceiling: spooling every document to a file');
    const spool = await spoolGeneration(clients.opensearch, indices, config.namespace, ns.prefix);
    let bulk: BulkCeilingResult[];
    let bulkBest: BulkCeilingResult;
    let diagnosis: ProjectorRun['diagnosis'];
    try {
      ({ bulk, bulkBest } = await measureStreams(clients.opensearch, spool, machine.pids));
      if (captureFile) {
        const interval = options.publishIntervalMs ?? config.publishIntervalMs;
        const bulkWithRefreshes = await measureBulkCeiling(clients.opensearch, spool, { streams: 1, refreshEveryMs: interval, pids: machine.pids });
        progress(
          `  diagnosis: bulk ceiling, 1 stream, refresh every ${interval} ms: ${fmt(bulkWithRefreshes.docsPerSecond)} documents/s (${bulkWithRefreshes.refreshes} refreshes)`,
        );
        const replay = await replayBulkBodies(
          clients.opensearch,
          captureFile,
          indices,
          { users: `${config.namespace}-users-replay`, facts: `${config.namespace}-facts-replay` },
          machine.pids,
        );
        progress(`  diagnosis: the projector's own ${replay.requests} bulk requests replayed: ${fmt(replay.docsPerSecond)} documents/s`);
        diagnosis = { bulkWithRefreshes, replay };
      }
    } finally {
      await spool.remove();
    }
    return {
      namespace: ns.prefix,
      settings: {
        sessionTimeoutMs: config.sessionTimeoutMs,
        maxBytesPerPartition: config.maxBytesPerPartition,
        publishIntervalMs: options.publishIntervalMs ?? config.publishIntervalMs,
        partitionsConsumedConcurrently: options.concurrency ?? PARTITIONS_IN_FLIGHT,
      },
      published: { events: published.total, counts: published.counts, ms: published.elapsedMs, partitions: published.lastOffsets.size },
      drain,
      consume,
      readBack: { users: spool.counts[0]!, facts: spool.counts[1]!, ms: spool.ms },
      bulk,
      bulkBest,
      ratios: { documents: drain.documentsPerSecond / bulkBest.docsPerSecond, events: drain.eventsPerSecond / consume.eventsPerSecond },
      ...(diagnosis ? { diagnosis } : {}),
    };
  } finally {
    await pipeline?.close();
    if (captureFile) await rm(captureFile, { force: true });
    progress(`  deleting namespace ${ns.prefix}`);
    await ns.cleanup().catch((error) => progress(`  cleanup of ${ns.prefix} failed: ${(error as Error).message}`));
  }
}

const busiest = (io: DrainResult['io'], prefix: string) =>
  Object.entries(io)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((a, [, s]) => Math.max(a, s.busyMs), 0);

/** The figures that get a median, by name, from one run. */
function figures(run: ProjectorRun): Record<string, number> {
  const d = run.drain;
  const secs = d.wallMs / 1000;
  return {
    events: run.published.events,
    'documents written': d.documents,
    'OpenSearch operations per event': d.documents / run.published.events,
    'distinct documents (users + facts)': run.readBack.users + run.readBack.facts,
    'join s': d.joinMs / 1000,
    'drain s (join → searchable)': d.drainMs / 1000,
    'all applied s (join → applied)': d.appliedMs / 1000,
    'projector events/s': d.eventsPerSecond,
    'projector documents/s': d.documentsPerSecond,
    'consume ceiling events/s': run.consume.eventsPerSecond,
    'bulk ceiling 1 stream docs/s': run.bulk.find((b) => b.streams === 1)?.docsPerSecond ?? Number.NaN,
    'bulk ceiling 2 streams docs/s': run.bulk.find((b) => b.streams === 2)?.docsPerSecond ?? Number.NaN,
    'bulk ceiling best docs/s': run.bulkBest.docsPerSecond,
    'ratio documents/s ÷ bulk ceiling': run.ratios.documents,
    'ratio events/s ÷ bulk ceiling docs/s': d.eventsPerSecond / run.bulkBest.docsPerSecond,
    'ratio events/s ÷ consume ceiling': run.ratios.events,
    ...(run.diagnosis
      ? {
          'diag: bulk 1 stream + refresh ticks docs/s': run.diagnosis.bulkWithRefreshes.docsPerSecond,
          "diag: projector's requests replayed docs/s": run.diagnosis.replay.docsPerSecond,
          'diag: ratio documents/s ÷ replay': d.documentsPerSecond / run.diagnosis.replay.docsPerSecond,
        }
      : {}),
    'rss before drain MiB': d.memory.rssBefore / 2 ** 20,
    'rss at end of drain MiB': d.memory.rss / 2 ** 20,
    'live heap at end MiB (after GC)': d.memory.heapLive / 2 ** 20,
    'projector process CPU (cores)': d.cpu.self / secs,
    'event loop utilization': d.eventLoopUtilization,
    'main thread waiting for a core % of drain': (100 * d.waitedForCoreS * 1000) / d.wallMs,
    'GC pauses % of drain': (100 * (d.gc.minor.ms + d.gc.major.ms + d.gc.incremental.ms)) / d.wallMs,
    'GC minor pauses s': d.gc.minor.ms / 1000,
    'GC major + incremental pauses s': (d.gc.major.ms + d.gc.incremental.ms) / 1000,
    'GC major collections': d.gc.major.count,
    'accounts read from Redis': d.accountLoads.count,
    'accounts read again after the budget dropped them': d.accountLoads.afterEviction,
    'account reads s': d.accountLoads.seconds,
    'account reads after a drop s': d.accountLoads.afterEvictionSeconds,
    'accounts dropped by the budget': d.accountLoads.evictions,
    'OpenSearch CPU (cores)': d.cpu.opensearch / secs,
    'OpenSearch CPU at bulk ceiling (cores)': run.bulkBest.opensearchCores,
    'Kafka CPU (cores)': d.cpu.kafka / secs,
    'Redis CPU (cores)': d.cpu.redis / secs,
    'machine busy (cores)': d.cpu.machineBusy / secs,
    'Redis in flight % of drain': (100 * busiest(d.io, 'redis')) / d.wallMs,
    'Redis calls': Object.entries(d.io)
      .filter(([k]) => k.startsWith('redis'))
      .reduce((a, [, s]) => a + s.calls, 0),
    '_bulk in flight % of drain': (100 * (d.io['opensearch _bulk']?.busyMs ?? 0)) / d.wallMs,
    '_refresh in flight % of drain': (100 * (d.io['opensearch _refresh']?.busyMs ?? 0)) / d.wallMs,
    '_bulk requests': d.io['opensearch _bulk']?.calls ?? 0,
    'Kafka batches projected': d.batches.count,
    'longest event-loop stall s': d.eventLoop.maxDelayMs / 1000,
  };
}

/** Runs each repetition in a fresh Node process (this file with --child) and gathers the runs. */
export async function runProjectorBench(options: ProjectorBenchOptions): Promise<ProjectorBenchReport> {
  const probe = createBenchNamespace();
  const machine = await describeMachine(probe.config);
  await probe.cleanup();
  progress(
    `machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpuModel}; Node ${machine.node}, Kafka ${machine.kafka}, OpenSearch ${machine.opensearch}, Redis ${machine.redis}; load ${machine.loadAverage}`,
  );
  const runs: ProjectorRun[] = [];
  const failures: ProjectorBenchReport['failures'] = [];
  for (let i = 0; i < options.runs; i++) {
    const outcome = await runChild(options, i);
    if ('failure' in outcome) {
      progress(`run ${i + 1} failed: ${outcome.failure}`);
      failures.push({ run: i + 1, message: outcome.failure });
    } else runs.push(outcome);
  }
  const perRun = runs.map(figures);
  const medians = Object.fromEntries(Object.keys(perRun[0] ?? {}).map((k) => [k, median(perRun.map((f) => f[k]!))]));
  return { bench: 'projector-throughput', at: new Date().toISOString(), options, machine, runs, failures, medians };
}

/** Exit code of a child whose run failed in a way worth reporting (its JSON says why). */
const RUN_FAILED = 3;

function runChild(options: ProjectorBenchOptions, index: number): Promise<ProjectorRun | { failure: string }> {
  const args = [
    '--expose-gc',
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--child',
    '--run-index',
    String(index),
    '--runs',
    String(options.runs),
    '--scale',
    String(options.scale),
    '--seed',
    String(options.seed),
    '--timeout-s',
    String(options.timeoutMs / 1000),
    ...(options.cpuProfile && index === 0 ? ['--cpu-profile', options.cpuProfile] : []),
    ...(options.heapProfile && index === 0 ? ['--heap-profile', options.heapProfile] : []),
    ...(options.diagnose ? ['--diagnose'] : []),
    ...(options.concurrency ? ['--concurrency', String(options.concurrency)] : []),
    ...(options.publishIntervalMs ? ['--publish-interval-ms', String(options.publishIntervalMs)] : []),
    ...(options.stallMs ? ['--stall-s', String(options.stallMs / 1000)] : []),
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    // Ctrl-C reaches the child too (same process group); it cleans up its own namespace.
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || code === RUN_FAILED) resolvePromise(JSON.parse(stdout) as ProjectorRun | { failure: string });
      else reject(new Error(`run ${index + 1} failed (exit ${code})`));
    });
  });
}

/** The summary table: one column per run and the median. */
export function formatProjectorReport(report: ProjectorBenchReport): string {
  const perRun = report.runs.map(figures);
  const digits = (name: string) => (/ratio|utilization/.test(name) ? 2 : /cores| s \(| s$|%/.test(name) ? 1 : 0);
  const rows = Object.keys(report.medians).map((name) => [name, ...perRun.map((f) => fmt(f[name]!, digits(name))), fmt(report.medians[name]!, digits(name))]);
  const m = report.machine;
  const set = report.runs[0]?.settings;
  const knobs = set
    ? [
        `session timeout ${set.sessionTimeoutMs / 1000} s, ${set.maxBytesPerPartition / 2 ** 20} MiB per partition fetch, ${set.partitionsConsumedConcurrently} partitions concurrently, publish every ${set.publishIntervalMs} ms`,
      ]
    : [];
  const failed = report.failures.map((f) => `run ${f.run} FAILED: ${f.message}`);
  return [
    `projector throughput, benchPreset(${report.options.scale}), seed ${report.options.seed}, ${report.runs.length} run(s) completed, medians in the last column${knobs.length > 0 ? `; ${knobs.join(', ')}` : ''}`,
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; Kafka ${m.kafka}; OpenSearch ${m.opensearch}; Redis ${m.redis}; load average at start ${m.loadAverage}`,
    `code: ${m.source.commit}${m.source.uncommitted.length > 0 ? ` with uncommitted changes in ${m.source.uncommitted.join(', ')}` : ''}`,
    '',
    ...(rows.length > 0 ? [table(['figure', ...report.runs.map((_, i) => `run ${i + 1}`), 'median'], rows)] : []),
    ...failed,
    '',
  ].join('\n');
}

export const PROJECTOR_FLAGS = {
  scale: { default: 0.05, help: 'benchPreset scale (1 = 2,000,000 events)', min: 0.001, max: 1 },
  runs: { default: 3, help: 'repetitions, each in a fresh process; medians are reported', min: 1, max: 20 },
  seed: { default: 42, help: 'generator seed', min: 0, max: 0xffffffff },
  'timeout-s': { default: 900, help: 'upper bound of one drain, in seconds', min: 10, max: 10800 },
  'cpu-profile': { default: '', help: 'write a CPU profile (.cpuprofile) of the first drain to this file' },
  'heap-profile': { default: '', help: 'write an allocation profile (.heapprofile, garbage included) of the first drain to this file' },
  diagnose: { default: false, help: "also: bulk ceiling with refresh ticks, and a replay of the projector's own bulk requests" },
  concurrency: { default: 0, help: 'experiment: partitionsConsumedConcurrently (0: the product default)', min: 0, max: 64 },
  'publish-interval-ms': { default: 0, help: 'experiment: position publish interval (0: the config default)', min: 0, max: 60_000 },
  'stall-s': { default: 120, help: 'a drain with no progress for this long fails its run', min: 10, max: 3600 },
  out: { default: '', help: 'also write the JSON report to this file' },
  json: { default: false, help: 'print the JSON report on stdout instead of the table' },
  child: { default: false, help: 'internal: one run in this process, its JSON on stdout' },
  'run-index': { default: 0, help: 'internal: which run this child is', min: 0, max: 19 },
} as const;

export type ProjectorFlags = ReturnType<typeof parseFlags<typeof PROJECTOR_FLAGS>>;

export function optionsFromFlags(flags: ProjectorFlags): ProjectorBenchOptions {
  return {
    scale: flags.scale,
    runs: flags.runs,
    seed: flags.seed,
    timeoutMs: flags['timeout-s'] * 1000,
    ...(flags['cpu-profile'] ? { cpuProfile: resolve(flags['cpu-profile']) } : {}),
    ...(flags['heap-profile'] ? { heapProfile: resolve(flags['heap-profile']) } : {}),
    ...(flags.diagnose ? { diagnose: true } : {}),
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
    ...(flags['publish-interval-ms'] ? { publishIntervalMs: flags['publish-interval-ms'] } : {}),
    stallMs: flags['stall-s'] * 1000,
  };
}

export function reportJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

async function main(): Promise<void> {
  const flags = parseFlags('tsx bench/projector-throughput.ts', PROJECTOR_FLAGS);
  const options = optionsFromFlags(flags);
  if (flags.child) {
    const probe = createBenchNamespace();
    const machine = await describeMachine(probe.config);
    await probe.cleanup();
    try {
      process.stdout.write(reportJson(await runOnce(options, machine, flags['run-index'])));
    } catch (error) {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.stdout.write(reportJson({ failure: (error as Error).message }));
      process.exitCode = RUN_FAILED;
    }
    return;
  }
  const report = await runProjectorBench(options);
  const json = reportJson(report);
  if (flags.out) await writeFile(flags.out, json);
  process.stdout.write(flags.json ? `${json}\n` : formatProjectorReport(report));
  if (report.failures.length > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (error) => {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
