/**
 * Rebuild time against the bulk ceiling of the same machine, in the same run:
 *
 *   1. a fresh namespace; benchPreset(scale) published and drained by a projector in this process
 *      (the live generation), which is then stopped (no traffic during the rebuild);
 *   2. the real command, `access-index rebuild`, in its own process: wall time, its phases (from
 *      its own progress lines: filling, verifying, parity, swap), its peak resident memory;
 *   3. documents it wrote: the indexing and delete operations OpenSearch counted on the new
 *      generation's indices (users, history and, where the generation has one, facts; overwrites
 *      included), and the distinct documents they hold;
 *   4. the raw `_bulk` ceiling for the same (distinct) documents, 1 and 2 concurrent streams,
 *      with bench/ceilings/bulk-ceiling.ts;
 *   5. ratios: the rebuild's documents/s against the ceiling's, over the fill phase and over the
 *      whole command; and how many times the ceiling's time for the final documents the rebuild took.
 *
 *   npx tsx bench/rebuild-time.ts [--scale 0.02] [--runs 2] [--seed 42] [--json] [--out file]
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@opensearch-project/opensearch';
import { benchPreset, generateHistory } from '../src/demo/generator.ts';
import type { DocOp } from '../src/opensearch/bulk-writer.ts';
import { factsIndex, historyIndex, usersIndex } from '../src/opensearch/indices.ts';
import { createAccountStore } from '../src/redis/account-store.ts';
import { type BulkCeilingResult, measureBulkCeiling, readBack, recreateLike } from './ceilings/bulk-ceiling.ts';
import { parseFlags } from './support/args.ts';
import { createBenchNamespace } from './support/bench-namespace.ts';
import { processMemory, productEnv } from './support/load.ts';
import { openLivePipeline, publishDataset, startInProcessProjector } from './support/live-pipeline.ts';
import { describeMachine, type MachineInfo } from './support/machine.ts';
import { emitReport, fmt, median, mib, progress, runIfMain, table } from './support/report.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const REBUILD_FLAGS = {
  scale: { default: 0.02, help: 'benchPreset scale (1 = 2,000,000 events)', min: 0.001, max: 0.5 },
  seed: { default: 42, help: 'generator seed', min: 0, max: 0xffffffff },
  runs: { default: 2, help: 'repetitions, each in a fresh namespace; medians are reported', min: 1, max: 10 },
  'timeout-s': { default: 900, help: 'upper bound of the live drain and of the rebuild, in seconds', min: 10, max: 3600 },
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
}

export interface RebuildRun {
  namespace: string;
  events: number;
  liveDrainMs: number;
  command: CommandRun;
  phases: { startupMs: number; fillMs: number; verifyMs: number; parityMs: number; swapMs: number };
  generation: string;
  written: { index: number; delete: number; total: number; failed: number };
  distinct: { users: number; history: number; facts: number };
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

/** The command's progress lines that start each phase (src/rebuild/rebuild.ts). */
const MARKS: [string, RegExp][] = [
  ['started', /^(Starting|Resuming) the rebuild/],
  ['caught up', /^Caught up\. Verifying/],
  ['parity', /^Checking parity/],
  ['swapping', /^Parity holds/],
  ['live', /^Generation \S+ is live/],
];

function runRebuildCommand(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'access-index.js'), 'rebuild'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const marks: Record<string, number> = {};
    let stdout = '';
    let errBuffer = '';
    let peakRss = 0;
    const sampler = setInterval(() => {
      const m = processMemory(child.pid!);
      if (Number.isFinite(m.peakRss)) peakRss = Math.max(peakRss, m.peakRss);
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
        for (const [name, pattern] of MARKS) if (marks[name] === undefined && pattern.test(line)) marks[name] = at;
        if (line.startsWith('rebuild:') || MARKS.some(([, p]) => p.test(line))) progress(`    ${line}`);
        else if (line.length > 0) process.stderr.write(`    ${line}\n`);
      }
    });
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearInterval(sampler);
      clearTimeout(timer);
      resolvePromise({ exitCode, wallMs: performance.now() - t0, marks, stdout, peakRss });
    });
  });
}

/** Every document of `index` as index operations on `target` (version 1), by scroll. */
async function scrollDocs(client: Client, index: string, target: string): Promise<DocOp[]> {
  const out: DocOp[] = [];
  let response = await client.search({ index, scroll: '1m', body: { size: 5000, sort: ['_doc'] } } as never);
  try {
    for (;;) {
      const body = response.body as { _scroll_id?: string; hits: { hits: { _id: string; _source: object }[] } };
      if (body.hits.hits.length === 0) break;
      for (const hit of body.hits.hits) out.push({ op: 'index', index: target, id: hit._id, version: 1, doc: hit._source });
      response = await client.scroll({ scroll_id: body._scroll_id, scroll: '1m' } as never);
    }
  } finally {
    const scrollId = (response.body as { _scroll_id?: string })._scroll_id;
    if (scrollId) await client.clearScroll({ body: { scroll_id: scrollId } } as never).catch(() => undefined);
  }
  return out;
}

async function indexingTotals(client: Client, indices: string[]): Promise<{ index: number; delete: number; failed: number; docs: Record<string, number> }> {
  const body = (await client.indices.stats({ index: indices, metric: ['indexing', 'docs'] } as never)).body as {
    indices: Record<string, { primaries: { indexing: { index_total: number; delete_total: number; index_failed: number }; docs: { count: number } } }>;
  };
  let index = 0;
  let del = 0;
  let failed = 0;
  const docs: Record<string, number> = {};
  for (const [name, s] of Object.entries(body.indices)) {
    index += s.primaries.indexing.index_total;
    del += s.primaries.indexing.delete_total;
    failed += s.primaries.indexing.index_failed;
    docs[name] = s.primaries.docs.count;
  }
  return { index, delete: del, failed, docs };
}

export async function runOnce(flags: ReturnType<typeof parseFlags<typeof REBUILD_FLAGS>>, machine: MachineInfo, i: number): Promise<RebuildRun> {
  const ns = createBenchNamespace();
  progress(`run ${i + 1}/${flags.runs}: namespace ${ns.prefix}`);
  const pipeline = await openLivePipeline(ns);
  try {
    progress(`  publishing benchPreset(${flags.scale}) with seed ${flags.seed}`);
    const published = await publishDataset(pipeline, generateHistory({ seed: flags.seed, ...benchPreset(flags.scale) }));
    progress('  the live generation: a projector in this process drains it, then stops');
    const projector = await startInProcessProjector(pipeline, machine);
    const liveDrainMs = await pipeline.waitSearchable(published.lastOffsets, flags['timeout-s'] * 1000);
    await projector.stop();
    progress(`  live generation searchable after ${fmt(liveDrainMs / 1000, 1)} s (${fmt((published.total * 1000) / liveDrainMs)} events/s)`);

    progress('  access-index rebuild, in its own process');
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
    progress(`  rebuilt ${generation} in ${fmt(command.wallMs / 1000, 1)} s: startup ${fmt(phases.startupMs / 1000, 1)} s, fill ${fmt(phases.fillMs / 1000, 1)} s, verify ${fmt(phases.verifyMs / 1000, 1)} s, parity ${fmt(phases.parityMs / 1000, 1)} s, swap and exit ${fmt(phases.swapMs / 1000, 1)} s; peak rss ${mib(command.peakRss)}`);

    const { opensearch } = pipeline.clients;
    const newIndices = { users: usersIndex(ns.config.namespace, generation), history: historyIndex(ns.config.namespace, generation) };
    // A generation may also have a facts index (fact intervals, for as_of): counted when it exists.
    const facts = factsIndex(ns.config.namespace, generation);
    const hasFacts = (await opensearch.indices.exists({ index: facts })).body === true;
    const totals = await indexingTotals(opensearch, [newIndices.users, newIndices.history, ...(hasFacts ? [facts] : [])]);
    const written = { index: totals.index, delete: totals.delete, total: totals.index + totals.delete, failed: totals.failed };
    progress(`  written by the rebuild: ${fmt(written.index)} index and ${fmt(written.delete)} delete operations (${fmt(written.failed)} refused as stale)`);

    progress('  bulk ceiling: reading the new generation back');
    const store = createAccountStore(pipeline.clients.redis, { namespace: ns.config.namespace, generation });
    const target = { users: `${ns.config.namespace}-users-ceiling`, history: `${ns.config.namespace}-history-ceiling` };
    const docs = await readBack(opensearch, newIndices, target, await store.accounts());
    const factsTarget = `${ns.config.namespace}-facts-ceiling`;
    const factOps = hasFacts ? await scrollDocs(opensearch, facts, factsTarget) : [];
    const ops = [...docs.users, ...docs.history, ...factOps];
    progress(`  read back ${fmt(docs.users.length)} user documents, ${fmt(docs.history.length)} history records, ${fmt(factOps.length)} fact intervals`);
    const bulk: BulkCeilingResult[] = [];
    for (const streams of [1, 2]) {
      // measureBulkCeiling recreates the users and history targets; the facts target is ours.
      if (hasFacts) await recreateLike(opensearch, facts, factsTarget);
      const result = await measureBulkCeiling(opensearch, newIndices, target, ops, { streams, pids: machine.pids });
      bulk.push(result);
      progress(`  bulk ceiling, ${streams} stream(s): ${fmt(result.docsPerSecond)} documents/s (${fmt(result.docs)} documents in ${fmt(result.ms / 1000, 1)} s)`);
    }
    const bulkBest = bulk.reduce((a, b) => (b.docsPerSecond > a.docsPerSecond ? b : a));
    const fillRate = (written.total * 1000) / phases.fillMs;
    const wallRate = (written.total * 1000) / command.wallMs;
    return {
      namespace: ns.prefix,
      events: published.total,
      liveDrainMs,
      command,
      phases,
      generation,
      written,
      distinct: { users: docs.users.length, history: docs.history.length, facts: factOps.length },
      bulk,
      bulkBest,
      ratios: { fill: fillRate / bulkBest.docsPerSecond, wall: wallRate / bulkBest.docsPerSecond, wallTimes: command.wallMs / bulkBest.ms },
    };
  } finally {
    await pipeline.close();
    progress(`  deleting namespace ${ns.prefix}`);
    await ns.cleanup().catch((error) => progress(`  cleanup of ${ns.prefix} failed: ${(error as Error).message}`));
  }
}

function figures(r: RebuildRun): Record<string, number> {
  return {
    events: r.events,
    'live drain s (in-process projector)': r.liveDrainMs / 1000,
    'rebuild command wall s': r.command.wallMs / 1000,
    '  startup s (process start to first line)': r.phases.startupMs / 1000,
    '  fill s (replay until searchable)': r.phases.fillMs / 1000,
    '  verify s': r.phases.verifyMs / 1000,
    '  parity s': r.phases.parityMs / 1000,
    '  swap and exit s': r.phases.swapMs / 1000,
    'documents written (index + delete ops)': r.written.total,
    'distinct documents (users + history + facts)': r.distinct.users + r.distinct.history + r.distinct.facts,
    '  user documents': r.distinct.users,
    '  history records': r.distinct.history,
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
    `rebuild time, benchPreset(${report.options.scale}), seed ${report.options.seed}, ${report.runs.length} run(s), medians in the last column`,
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; Kafka ${m.kafka}; OpenSearch ${m.opensearch}; Redis ${m.redis}; load average at start ${m.loadAverage}`,
    `code: ${m.source.commit}${m.source.uncommitted.length > 0 ? ` with uncommitted changes in ${m.source.uncommitted.join(', ')}` : ''}`,
    '',
    table(['figure', ...report.runs.map((_, i) => `run ${i + 1}`), 'median'], rows),
    '',
  ].join('\n');
}

export async function runRebuildBench(flags: ReturnType<typeof parseFlags<typeof REBUILD_FLAGS>>): Promise<RebuildReport> {
  const probe = createBenchNamespace();
  const machine = await describeMachine(probe.config);
  await probe.cleanup();
  progress(`machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpuModel}; Node ${machine.node}, Kafka ${machine.kafka}, OpenSearch ${machine.opensearch}, Redis ${machine.redis}; load ${machine.loadAverage}`);
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
