/**
 * Rebuild time against the bulk ceiling of the same machine, in the same run:
 *
 *   1. a fresh namespace; benchPreset(scale) published and drained by the real `access-index project`
 *      command in its own process (the live generation): its resident memory once drained; then the
 *      real `access-index serve` answers a fixed set of reads on every account (summaries, queues,
 *      listings, searches, drill-downs, histories, the largest account's CSV export): its resident
 *      memory with the dataset; Redis's and the indices' sizes; both processes are then stopped (no
 *      traffic during the rebuild);
 *   2. the real command, `access-index rebuild`, in its own process: wall time, its phases (from
 *      its own progress lines: filling, verifying, parity, swap), its peak resident memory;
 *   3. documents it wrote: the indexing and delete operations OpenSearch counted on the new
 *      generation's indices (users and facts; overwrites
 *      included), and the distinct documents they hold;
 *   4. the raw `_bulk` ceiling for the same (distinct) documents, 1 and 2 concurrent streams,
 *      with bench/ceilings/bulk-ceiling.ts;
 *   5. ratios: the rebuild's documents/s against the ceiling's, over the fill phase and over the
 *      whole command; and how many times the ceiling's time for the final documents the rebuild took.
 *
 *   npx tsx bench/rebuild-time.ts [--scale 0.02] [--runs 2] [--seed 42] [--json] [--out file]
 *
 * At scale 1 (the full 2,000,000-event history: `npm run bench:full`, about two and a half hours
 * here) the ceiling's documents (6.9 million) go through a spool file in the temporary folder
 * (several GiB while it runs).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_SCOPE } from '../src/api/auth.ts';
import { mintToken } from '../src/api/tokens.ts';
import { benchPreset, generateHistory } from '../src/demo/generator.ts';
import { factsIndex, usersIndex } from '../src/opensearch/indices.ts';
import { type BulkCeilingResult, indexingTotals, measureStreams, spoolGeneration } from './ceilings/bulk-ceiling.ts';
import { parseFlags } from './support/args.ts';
import { createBenchNamespace } from './support/bench-namespace.ts';
import { type LivePipeline, openLivePipeline, publishDataset } from './support/live-pipeline.ts';
import { type ApiProcess, logLines, type ProcessMemory, processMemory, productEnv, startApiProcess, startProjectorProcess } from './support/load.ts';
import { describeMachine, type MachineInfo } from './support/machine.ts';
import { emitReport, fmt, median, mib, progress, runIfMain, table } from './support/report.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const REBUILD_FLAGS = {
  scale: { default: 0.02, help: 'benchPreset scale (1 = 2,000,000 events, the full history)', min: 0.001, max: 1 },
  seed: { default: 42, help: 'generator seed', min: 0, max: 0xffffffff },
  runs: { default: 2, help: 'repetitions, each in a fresh namespace; medians are reported', min: 1, max: 10 },
  'timeout-s': { default: 900, help: 'upper bound of the live drain and of the rebuild, in seconds', min: 10, max: 10800 },
  keep: { default: false, help: 'keep the namespace at the end (to rebuild it again with --namespace)' },
  namespace: { default: '', help: 'rebuild this kept namespace (published and drained by an earlier run) instead of a fresh one: step 1 is skipped; implies --runs 1' },
  out: { default: '', help: 'also write the JSON report to this file' },
  json: { default: false, help: 'print the JSON report on stdout instead of the table' },
} as const;

interface CommandRun {
  exitCode: number | null;
  wallMs: number;
  /** ms from spawn to each progress line we know (first occurrence) */
  marks: Record<string, number>;
  stdout: string;
  peakRss: number;
  /** ms from spawn to the sample that first saw the peak, and the phase it fell in (the last mark before it) */
  peakAt: { ms: number; phase: string };
}

/** Resident memory of the product's processes, and the stores' sizes, with the whole dataset. */
export interface DatasetMemory {
  projector: ProcessMemory;
  api: { started: ProcessMemory; afterReads: ProcessMemory; reads: number; failed: number; readsMs: number };
  redisUsedBytes: number;
  /** primary store size of the live generation's indices */
  indexBytes: number;
  /** index and delete operations OpenSearch counted on the live generation's indices (the live drain's writes, publisher checkpoints included) */
  liveWrites: number;
  userDocuments: number;
}

export interface RebuildRun {
  namespace: string;
  events: number;
  /** NaN, and no memory, when an earlier run's namespace was rebuilt (--namespace) */
  liveDrainMs: number;
  memory?: DatasetMemory;
  command: CommandRun;
  phases: { startupMs: number; fillMs: number; verifyMs: number; parityMs: number; swapMs: number };
  generation: string;
  written: { index: number; delete: number; total: number; failed: number };
  distinct: { users: number; facts: number };
  bulk: BulkCeilingResult[];
  bulkBest: BulkCeilingResult;
  ratios: { fill: number; wall: number; wallTimes: number };
}

export interface RebuildReport {
  bench: 'rebuild-time';
  at: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  runs: RebuildRun[];
  medians: Record<string, number>;
}

/** The command's progress lines that start each phase (src/rebuild/rebuild.ts), with the phase each begins as the report names it. */
const MARKS: [name: string, line: RegExp, begins: string][] = [
  ['started', /^(Starting|Resuming) the rebuild/, 'fill'],
  ['caught up', /^Caught up\. Verifying/, 'verify'],
  ['parity', /^Checking parity/, 'parity'],
  ['swapping', /^Parity holds/, 'swap and exit'],
  ['live', /^Generation \S+ is live/, 'swap and exit'],
];

function runRebuildCommand(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'access-index.js'), 'rebuild'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const marks: Record<string, number> = {};
    let stdout = '';
    let errBuffer = '';
    /** the phase begun by the latest mark (the command prints them in order) */
    let phase = 'startup';
    /** the latest sample's resident memory, and the peak so far with when and in which phase it came */
    let rss = Number.NaN;
    let peakRss = 0;
    let peakAt = { ms: 0, phase };
    const sampler = setInterval(() => {
      const m = processMemory(child.pid!);
      rss = m.rss;
      if (!Number.isFinite(m.peakRss) || m.peakRss <= peakRss) return;
      peakRss = m.peakRss;
      peakAt = { ms: performance.now() - t0, phase };
    }, 100);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      errBuffer += chunk;
      let nl: number;
      while ((nl = errBuffer.indexOf('\n')) >= 0) {
        const line = errBuffer.slice(0, nl).trim();
        errBuffer = errBuffer.slice(nl + 1);
        const at = performance.now() - t0;
        for (const [name, pattern, begins] of MARKS)
          if (marks[name] === undefined && pattern.test(line)) {
            marks[name] = at;
            phase = begins;
          }
        // The command's progress with its resident memory then (where the peak comes from).
        if (line.startsWith('rebuild:')) progress(`    ${line}; rss ${mib(rss)}`);
        else if (MARKS.some(([, p]) => p.test(line))) progress(`    ${line}`);
        else if (line.length > 0) process.stderr.write(`    ${line}\n`);
      }
    });
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearInterval(sampler);
      clearTimeout(timer);
      resolvePromise({ exitCode, wallMs: performance.now() - t0, marks, stdout, peakRss, peakAt });
    });
  });
}

interface LiveHistory {
  events: number;
  liveDrainMs: number;
  memory?: DatasetMemory;
}

/** Step 1: benchPreset(scale) published and drained by `access-index project`; memory with the dataset. */
async function publishAndDrain(pipeline: LivePipeline, flags: ReturnType<typeof parseFlags<typeof REBUILD_FLAGS>>): Promise<LiveHistory> {
  const { ns } = pipeline;
  progress(`  publishing benchPreset(${flags.scale}) with seed ${flags.seed}`);
  const published = await publishDataset(pipeline, generateHistory({ seed: flags.seed, ...benchPreset(flags.scale) }));
  progress('  the live generation: `access-index project` in its own process drains it');
  const projectorLog = join(tmpdir(), `${ns.prefix}-projector.log`);
  // info: the projector's slow account loads (a big account read again after the budget dropped it) are summed below
  const projector = startProjectorProcess(ns.config, { logFile: projectorLog, logLevel: 'info' });
  let memory: DatasetMemory;
  let liveDrainMs: number;
  try {
    liveDrainMs = await pipeline.waitSearchable(published.lastOffsets, flags['timeout-s'] * 1000, (searchable, waitedMs) =>
      progress(`    ${fmt(searchable)} of ${fmt(published.total)} events searchable after ${fmt(waitedMs / 1000)} s; projector rss ${mib(projector.memory().rss)}`),
    );
    progress(`  live generation searchable after ${fmt(liveDrainMs / 1000, 1)} s (${fmt((published.total * 1000) / liveDrainMs)} events/s); projector log ${projectorLog}`);
    memory = await measureDatasetMemory(pipeline, projector.memory());
  } finally {
    await projector.stop();
  }
  const problems = projector.logProblems();
  if (Object.keys(problems).length > 0) progress(`  projector warnings and errors: ${JSON.stringify(problems)}`);
  const slow = logLines(projectorLog, 'slow account load');
  const again = slow.filter((l) => l.afterEviction === true);
  const seconds = (lines: Record<string, unknown>[]) =>
    fmt(
      lines.reduce((a, l) => a + Number(l.seconds), 0),
      1,
    );
  progress(`  account loads over 0.5 s: ${slow.length} (${seconds(slow)} s), of which after the budget dropped the account: ${again.length} (${seconds(again)} s)`);
  const held = logLines(projectorLog, 'heavy rounds hold their account until written: the memory budget has no room for two at once').length;
  const released = logLines(projectorLog, "heavy rounds let their account go at commit again: the memory budget has room for the next one's documents").length;
  progress(`  heavy rounds held to their write for memory (decision 50): ${held} stretches (${released} ended)`);
  return { events: published.total, liveDrainMs, memory };
}

/** A kept namespace: its events are the topics' contents, every one of them searchable in the live generation. */
async function keptHistory(pipeline: LivePipeline): Promise<LiveHistory> {
  const ends = await pipeline.endOffsets();
  const events = [...ends.values()].reduce((sum, last) => sum + Number(last) + 1, 0);
  if (events === 0) throw new Error(`namespace ${pipeline.ns.prefix} has no events`);
  const lag = await pipeline.lag();
  if (lag > 0) throw new Error(`namespace ${pipeline.ns.prefix} is not drained (lag ${lag}): its live generation must be searchable before a rebuild is timed`);
  progress(`  ${fmt(events)} events, all searchable in the live generation`);
  return { events, liveDrainMs: Number.NaN };
}

export async function runOnce(flags: ReturnType<typeof parseFlags<typeof REBUILD_FLAGS>>, machine: MachineInfo, i: number): Promise<RebuildRun> {
  const reuse = flags.namespace !== '';
  const ns = createBenchNamespace(process.env, reuse ? flags.namespace : undefined);
  progress(`run ${i + 1}/${flags.runs}: namespace ${ns.prefix}${reuse ? ' (kept by an earlier run: its history is published and drained)' : ''}`);
  const pipeline = await openLivePipeline(ns);
  try {
    const { events, liveDrainMs, memory } = reuse ? await keptHistory(pipeline) : await publishAndDrain(pipeline, flags);
    const command = await runRebuildCommand(productEnv(ns.config, { LOG_LEVEL: 'warn' }), flags['timeout-s'] * 1000);
    if (command.exitCode !== 0) throw new Error(`access-index rebuild exited ${command.exitCode}: ${command.stdout}`);
    const generation = /rebuilt (\S+)/.exec(command.stdout)?.[1];
    if (!generation) throw new Error(`cannot read the generation from: ${command.stdout}`);
    const m = command.marks;
    const phases = {
      startupMs: m.started ?? Number.NaN,
      fillMs: (m['caught up'] ?? Number.NaN) - (m.started ?? Number.NaN),
      verifyMs: (m.parity ?? Number.NaN) - (m['caught up'] ?? Number.NaN),
      parityMs: (m.swapping ?? Number.NaN) - (m.parity ?? Number.NaN),
      swapMs: command.wallMs - (m.swapping ?? Number.NaN),
    };
    progress(
      `  rebuilt ${generation} in ${fmt(command.wallMs / 1000, 1)} s: startup ${fmt(phases.startupMs / 1000, 1)} s, fill ${fmt(phases.fillMs / 1000, 1)} s, verify ${fmt(phases.verifyMs / 1000, 1)} s, parity ${fmt(phases.parityMs / 1000, 1)} s, swap and exit ${fmt(phases.swapMs / 1000, 1)} s; peak rss ${mib(command.peakRss)}, reached at ${fmt(command.peakAt.ms / 1000, 1)} s (${command.peakAt.phase})`,
    );

    const { opensearch } = pipeline.clients;
    const newIndices = { users: usersIndex(ns.config.namespace, generation), facts: factsIndex(ns.config.namespace, generation) };
    const totals = await indexingTotals(opensearch, [newIndices.users, newIndices.facts]);
    const written = { index: totals.index, delete: totals.delete, total: totals.index + totals.delete, failed: totals.failed };
    progress(`  written by the rebuild: ${fmt(written.index)} index and ${fmt(written.delete)} delete operations (${fmt(written.failed)} refused as stale)`);

    progress("  bulk ceiling: spooling the new generation's documents to a file");
    const spool = await spoolGeneration(opensearch, newIndices, ns.config.namespace, ns.prefix);
    const distinct = { users: spool.counts[0]!, facts: spool.counts[1]! };
    let ceiling: Awaited<ReturnType<typeof measureStreams>>;
    try {
      ceiling = await measureStreams(opensearch, spool, machine.pids);
    } finally {
      await spool.remove();
    }
    const { bulk, bulkBest } = ceiling;
    const fillRate = (written.total * 1000) / phases.fillMs;
    const wallRate = (written.total * 1000) / command.wallMs;
    return {
      namespace: ns.prefix,
      events,
      liveDrainMs,
      ...(memory ? { memory } : {}),
      command,
      phases,
      generation,
      written,
      distinct,
      bulk,
      bulkBest,
      ratios: { fill: fillRate / bulkBest.docsPerSecond, wall: wallRate / bulkBest.docsPerSecond, wallTimes: command.wallMs / bulkBest.ms },
    };
  } finally {
    await pipeline.close();
    if (flags.keep) progress(`  keeping namespace ${ns.prefix} (--keep): rebuild it again with --namespace ${ns.prefix} (without --keep to delete it after)`);
    else {
      progress(`  deleting namespace ${ns.prefix}`);
      await ns.cleanup().catch((error) => progress(`  cleanup of ${ns.prefix} failed: ${(error as Error).message}`));
    }
  }
}

/**
 * Memory with the whole dataset: the drained projector's, and the API's after a fixed set of reads
 * on every account (what an admin opening each account's report does, plus the largest account's
 * CSV export); Redis's used_memory; the live indices' primary store size.
 */
async function measureDatasetMemory(pipeline: LivePipeline, projector: ProcessMemory): Promise<DatasetMemory> {
  const { opensearch, redis } = pipeline.clients;
  const info = await redis.info('memory');
  const redisUsedBytes = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
  const stats = (await opensearch.indices.stats({ index: [pipeline.indices.users, pipeline.indices.facts], metric: ['store', 'docs'] } as never)).body as {
    indices: Record<string, { primaries: { store: { size_in_bytes: number }; docs: { count: number } } }>;
  };
  const indexBytes = Object.values(stats.indices).reduce((sum, s) => sum + s.primaries.store.size_in_bytes, 0);
  const live = await indexingTotals(opensearch, [pipeline.indices.users, pipeline.indices.facts]);
  const liveWrites = live.index + live.delete;
  const userDocuments = stats.indices[pipeline.indices.users]?.primaries.docs.count ?? Number.NaN;
  progress(
    `  projector rss ${mib(projector.rss)} (peak ${mib(projector.peakRss)}); Redis ${mib(redisUsedBytes)}; indices ${mib(indexBytes)}, ${fmt(userDocuments)} user documents, ${fmt(liveWrites)} index and delete operations`,
  );

  const secret = randomBytes(36).toString('base64');
  const api = await startApiProcess(pipeline.ns.config, { secret, logFile: join(tmpdir(), `${pipeline.ns.prefix}-api.log`), logLevel: 'warn' });
  try {
    const started = api.memory();
    const t0 = performance.now();
    const { reads, failed } = await readEveryAccount(api, await pipeline.store.accounts(), secret);
    const readsMs = performance.now() - t0;
    const afterReads = api.memory();
    progress(
      `  API: rss ${mib(started.rss)} started, ${mib(afterReads.rss)} after ${fmt(reads)} reads in ${fmt(readsMs / 1000, 1)} s (${fmt(failed)} failed; peak ${mib(afterReads.peakRss)})`,
    );
    if (failed > 0) throw new Error(`${failed} API reads failed; see ${api.logFile}`);
    return { projector, api: { started, afterReads, reads, failed, readsMs }, redisUsedBytes, indexBytes, userDocuments, liveWrites };
  } finally {
    await api.stop();
  }
}

/** On every account: summary, queues, three listing pages, a search, a drill-down and a history; the largest account's CSV export. */
async function readEveryAccount(api: ApiProcess, accounts: string[], secret: string): Promise<{ reads: number; failed: number }> {
  let reads = 0;
  let failed = 0;
  const get = async (token: string, path: string): Promise<Response> => {
    const response = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    reads += 1;
    if (response.status !== 200) {
      failed += 1;
      progress(`    ${path}: ${response.status} ${(await response.text()).slice(0, 200)}`);
    }
    return response;
  };
  let largest = { accountId: '', total: -1, token: '' };
  for (const accountId of accounts) {
    const token = await mintToken({ secret, accountId, scope: READ_SCOPE, sub: 'bench', ttlSeconds: 3600 });
    const base = `/v1/accounts/${encodeURIComponent(accountId)}/access`;
    await (await get(token, `${base}/summary`)).arrayBuffer();
    await (await get(token, `${base}/queues`)).arrayBuffer();
    let cursor: string | null = null;
    let first: { user_id: string; display_name?: string } | undefined;
    let total = 0;
    for (let page = 0; page < 3; page++) {
      const body = (await (await get(token, `${base}/users?size=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json()) as {
        items?: { user_id: string; display_name?: string }[];
        total?: number;
        next_cursor?: string | null;
      };
      first ??= body.items?.[0];
      total = body.total ?? total;
      cursor = body.next_cursor ?? null;
      if (!cursor) break;
    }
    if (total > largest.total) largest = { accountId, total, token };
    if (!first) continue;
    const word = (first.display_name ?? first.user_id).split(/\s+/)[0]!.slice(0, 3);
    await (await get(token, `${base}/users?q=${encodeURIComponent(word)}&size=50`)).arrayBuffer();
    await (await get(token, `${base}/users/${encodeURIComponent(first.user_id)}`)).arrayBuffer();
    await (await get(token, `${base}/users/${encodeURIComponent(first.user_id)}/history`)).arrayBuffer();
  }
  if (largest.accountId) {
    progress(`    CSV export of ${largest.accountId} (${fmt(largest.total)} users)`);
    const response = await get(largest.token, `/v1/accounts/${encodeURIComponent(largest.accountId)}/access/users.csv`);
    let bytes = 0;
    for await (const chunk of response.body ?? []) bytes += (chunk as Uint8Array).byteLength;
    progress(`    ${mib(bytes)} of CSV`);
  }
  return { reads, failed };
}

function figures(r: RebuildRun): Record<string, number> {
  return {
    events: r.events,
    ...(r.memory
      ? {
          'live drain s (access-index project)': r.liveDrainMs / 1000,
          'projector rss MiB, drained': r.memory.projector.rss / 2 ** 20,
          'projector peak rss MiB': r.memory.projector.peakRss / 2 ** 20,
          'API rss MiB, started': r.memory.api.started.rss / 2 ** 20,
          'API rss MiB, after the reads': r.memory.api.afterReads.rss / 2 ** 20,
          'API peak rss MiB': r.memory.api.afterReads.peakRss / 2 ** 20,
          'API reads (all 200)': r.memory.api.reads,
          'Redis used_memory MiB': r.memory.redisUsedBytes / 2 ** 20,
          'live indices store MiB (primaries)': r.memory.indexBytes / 2 ** 20,
          'live drain writes (index + delete ops)': r.memory.liveWrites,
          'live drain ops ÷ events (issue 13: ≤ 3.0)': r.memory.liveWrites / r.events,
        }
      : {}),
    'rebuild command wall s': r.command.wallMs / 1000,
    '  startup s (process start to first line)': r.phases.startupMs / 1000,
    '  fill s (replay until searchable)': r.phases.fillMs / 1000,
    '  verify s': r.phases.verifyMs / 1000,
    '  parity s': r.phases.parityMs / 1000,
    '  swap and exit s': r.phases.swapMs / 1000,
    'documents written (index + delete ops)': r.written.total,
    'rebuild ops ÷ events': r.written.total / r.events,
    'distinct documents (users + facts)': r.distinct.users + r.distinct.facts,
    '  user documents': r.distinct.users,
    '  fact intervals': r.distinct.facts,
    'rebuild docs/s over fill': (r.written.total * 1000) / r.phases.fillMs,
    'rebuild docs/s over wall': (r.written.total * 1000) / r.command.wallMs,
    'bulk ceiling 1 stream docs/s': r.bulk.find((b) => b.streams === 1)?.docsPerSecond ?? Number.NaN,
    'bulk ceiling 2 streams docs/s': r.bulk.find((b) => b.streams === 2)?.docsPerSecond ?? Number.NaN,
    'bulk ceiling best docs/s': r.bulkBest.docsPerSecond,
    'ratio fill docs/s ÷ ceiling': r.ratios.fill,
    'ratio wall docs/s ÷ ceiling': r.ratios.wall,
    'rebuild wall ÷ ceiling time for the final documents': r.ratios.wallTimes,
    'rebuild process peak rss MiB': r.command.peakRss / 2 ** 20,
  };
}

export function formatRebuildReport(report: RebuildReport): string {
  const perRun = report.runs.map(figures);
  const digits = (name: string) => (/ratio|÷/.test(name) ? 2 : / s$| s \(/.test(name) ? 1 : 0);
  const rows = Object.keys(report.medians).map((name) => [name, ...perRun.map((f) => fmt(f[name]!, digits(name))), fmt(report.medians[name]!, digits(name))]);
  const m = report.machine;
  return [
    `rebuild time, ${report.options.namespace ? `kept namespace ${report.options.namespace}` : `benchPreset(${report.options.scale}), seed ${report.options.seed}`}, ${report.runs.length} run(s), medians in the last column`,
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; Kafka ${m.kafka}; OpenSearch ${m.opensearch}; Redis ${m.redis}; load average at start ${m.loadAverage}`,
    `code: ${m.source.commit}${m.source.uncommitted.length > 0 ? ` with uncommitted changes in ${m.source.uncommitted.join(', ')}` : ''}`,
    '',
    table(['figure', ...report.runs.map((_, i) => `run ${i + 1}`), 'median'], rows),
    '',
  ].join('\n');
}

export async function runRebuildBench(given: ReturnType<typeof parseFlags<typeof REBUILD_FLAGS>>): Promise<RebuildReport> {
  // A kept namespace can be rebuilt once per run of the command (each rebuild makes a generation).
  const flags = given.namespace ? { ...given, runs: 1 } : given;
  const probe = createBenchNamespace();
  const machine = await describeMachine(probe.config);
  await probe.cleanup();
  progress(
    `machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpuModel}; Node ${machine.node}, Kafka ${machine.kafka}, OpenSearch ${machine.opensearch}, Redis ${machine.redis}; load ${machine.loadAverage}`,
  );
  const runs: RebuildRun[] = [];
  for (let i = 0; i < flags.runs; i++) runs.push(await runOnce(flags, machine, i));
  const perRun = runs.map(figures);
  const medians = Object.fromEntries(Object.keys(perRun[0] ?? {}).map((k) => [k, median(perRun.map((f) => f[k]!))]));
  return { bench: 'rebuild-time', at: new Date().toISOString(), options: { ...flags }, machine, runs, medians };
}

async function main(): Promise<void> {
  const flags = parseFlags('tsx bench/rebuild-time.ts', REBUILD_FLAGS);
  await emitReport(await runRebuildBench(flags), flags, formatRebuildReport);
}

runIfMain(import.meta.url, main);
