/**
 * Summarizes a V8 CPU profile (.cpuprofile, from `--cpu-profile` or `node --cpu-prof`): where the
 * main thread's time went; or a sampled allocation profile (.heapprofile, from the projector bench's
 * `--heap-profile`): where the bytes the garbage collector has to collect were allocated, in MB
 * instead of ms. Three views:
 *   - top functions by self time (native built-ins like JSON.stringify shown as themselves);
 *   - areas: self time charged to the code that called it (built-ins charged to their nearest
 *     caller with a source file), grouped by module (core rules, bulk serialization, kafkajs…);
 *   - inclusive time of the projector's main steps (any sample with the step on its stack).
 *
 * `--from-s`/`--to-s` keep the samples of one stretch, in seconds from the profile's start (a bench
 * that prints its own clock, such as the freshness bench, tells which stretch was its load).
 *
 *   npx tsx bench/profile-summary.ts file.cpuprofile|file.heapprofile [--top 25] [--from-s 110] [--to-s 150] [--json]
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, table } from './support/report.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** V8's own pseudo-frames: not charged to anyone. */
const V8_META = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

/** Module areas, first match wins; matched against the frame's URL (or name for V8's own). */
const AREAS: [string, RegExp][] = [
  ['idle (waiting on I/O)', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['V8/native (program, root)', /^\((program|root)\)$/],
  ['profiler itself (bench artifact)', /^node:inspector/],
  ['core rules: projections/derive', /\/projections\/derive\.ts/],
  ['core rules: projections/apply+facts', /\/projections\/(apply|facts|affected|account)\.ts/],
  ['core rules: projections/history', /\/projections\/history\.ts/],
  ['core rules: projections/summary', /\/projections\/summary\.ts/],
  ['core rules: projections/other', /\/projections\//],
  ['projector: plan-batch', /\/src\/projector\/plan-batch\.ts/],
  ['projector: history-records', /\/src\/projector\/history-records\.ts/],
  ['projector: project-batch', /\/src\/projector\/project-batch\.ts/],
  ['projector: other', /\/src\/projector\//],
  ['decode (schemas/zod)', /\/schemas\/|\/node_modules\/zod\//],
  ['user document (toIndexedUser)', /\/src\/opensearch\/(user-document|search-terms)\.ts/],
  ['bulk writer (serialization)', /\/src\/opensearch\/bulk-writer\.ts/],
  ['redis account store', /\/src\/redis\//],
  ['kafkajs', /\/node_modules\/kafkajs\//],
  ['ioredis', /\/node_modules\/(ioredis|@ioredis|redis-parser|denque)\//],
  ['opensearch client', /\/node_modules\/(@opensearch-project|undici|hpagent|secure-json-parse)\//],
  ['pino', /\/node_modules\/(pino|sonic-boom)/],
  ['prom-client', /\/node_modules\/prom-client\//],
  ['tsx loader', /\/node_modules\/(tsx|esbuild)\//],
  ['bench harness', /\/bench\//],
  ['node internals (no JS caller: I/O callbacks)', /^node:/],
  ['other', /./],
];

/** A sampled allocation profile (HeapProfiler.stopSampling). */
export interface HeapProfile {
  head: HeapNode;
  samples: { size: number; nodeId: number; ordinal: number }[];
}
interface HeapNode {
  id: number;
  callFrame: CallFrame;
  children: HeapNode[];
}

/**
 * An allocation profile in the CPU profile's shape, each sample weighing its bytes (in place of
 * microseconds): the summary then reads "ms" as kB allocated.
 */
export function allocationsAsProfile(heap: HeapProfile): CpuProfile {
  const nodes: ProfileNode[] = [];
  const visit = (n: HeapNode) => {
    nodes.push({ id: n.id, callFrame: n.callFrame, children: n.children.map((c) => c.id) });
    for (const c of n.children) visit(c);
  };
  visit(heap.head);
  const samples = [...heap.samples].sort((a, b) => a.ordinal - b.ordinal);
  return { nodes, startTime: 0, endTime: 0, samples: samples.map((x) => x.nodeId), timeDeltas: samples.map((x) => x.size) };
}

export interface ProfileSummary {
  totalMs: number;
  top: { function: string; where: string; selfMs: number; percent: number }[];
  areas: { area: string; ms: number; percent: number }[];
  steps: { step: string; ms: number; percent: number }[];
}

/** Steps of the projector: a sample counts for the step when the step's function is on its stack. */
const STEPS: [string, (f: CallFrame) => boolean][] = [
  ['eachBatch (its synchronous part)', (f) => f.functionName === 'eachBatch' && f.url.includes('/src/projector/projector.ts')],
  ['  decodeEvent', (f) => f.functionName === 'decodeEvent'],
  ['  planBatch', (f) => f.functionName === 'planBatch'],
  ['    deriveUser', (f) => f.functionName === 'deriveUser'],
  ['    applyEvent', (f) => f.functionName === 'applyEvent'],
  // `same` is an arrow function: anonymous in the profile.
  ['    same(): whole-document JSON.stringify compare', (f) => (f.functionName === 'same' || f.functionName === '') && f.url.includes('/src/projector/plan-batch.ts')],
  ['    diffDocs: per-entry JSON.stringify compare', (f) => f.functionName === 'same' && f.url.includes('/projections/history.ts')],
  ['    recordChanges / diffDocs', (f) => f.functionName === 'recordChanges' || f.functionName === 'diffDocs'],
  ['  store.commit (args + eval)', (f) => f.functionName === 'commit' && f.url.includes('/src/redis/account-store.ts')],
  ['  store.load', (f) => f.functionName === 'load' && f.url.includes('/src/redis/account-store.ts')],
  ['  toIndexedUser', (f) => f.functionName === 'toIndexedUser'],
  ['  writeDocs (serialize + bulk)', (f) => f.functionName === 'writeDocs'],
  ['  clearOutboxes', (f) => f.functionName === 'clearOutboxes'],
  ['kafkajs (fetch, decode of record batches)', (f) => f.url.includes('/node_modules/kafkajs/')],
  ['ioredis (encode, parse replies)', (f) => /\/node_modules\/(ioredis|@ioredis|redis-parser)\//.test(f.url)],
  ['opensearch client', (f) => f.url.includes('/node_modules/@opensearch-project/')],
];

export function summarizeProfile(profile: CpuProfile, topN = 25, window: { fromS?: number; toS?: number } = {}): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  const fromUs = (window.fromS ?? 0) * 1e6;
  const toUs = (window.toS ?? Infinity) * 1e6;
  let atUs = 0;
  profile.samples.forEach((id, i) => {
    atUs += profile.timeDeltas[i] ?? 0;
    if (atUs >= fromUs && atUs < toUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const pct = (us: number) => (100 * us) / totalUs;

  const top = new Map<string, { function: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  const steps = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const f = node.callFrame;
    // Line numbers of tsx-compiled sources are not meaningful (0): shown only for plain JS.
    const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|src|projections|schemas|bench)\//, '$1/')}${f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ''}` : '(native)';
    const key = `${f.functionName}@${where}`;
    const t = top.get(key) ?? { function: f.functionName || '(anonymous)', where, us: 0 };
    t.us += us;
    top.set(key, t);
    // Built-ins and Node's own modules (socket writes, streams, timers) are charged to the nearest
    // caller in a source file, so that a socket write counts for the client that wrote.
    let charged: ProfileNode | undefined = node;
    while (charged && !charged.callFrame.url.startsWith('file:') && !charged.callFrame.url.startsWith('node:inspector') && !V8_META.has(charged.callFrame.functionName))
      charged = parent.has(charged.id) ? byId.get(parent.get(charged.id)!) : undefined;
    const subject = charged ? charged.callFrame.url || charged.callFrame.functionName : f.url || 'node:';
    let area = AREAS.find(([, re]) => re.test(subject))![0];
    if (area === 'other') area = `other: ${/\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(subject)?.[1] ?? subject.replace(/^file:\/\/.*?\/(src|projections|schemas)\//, '$1/')}`;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: ProfileNode | undefined = node; cur; cur = parent.has(cur.id) ? byId.get(parent.get(cur.id)!) : undefined)
      for (const [step, match] of STEPS) if (!seen.has(step) && match(cur.callFrame)) seen.add(step);
    for (const step of seen) steps.set(step, (steps.get(step) ?? 0) + us);
  }
  return {
    totalMs: totalUs / 1000,
    top: [...top.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((t) => ({ function: t.function, where: t.where, selfMs: t.us / 1000, percent: pct(t.us) })),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, percent: pct(us) })),
    steps: STEPS.map(([step]) => ({ step, ms: (steps.get(step) ?? 0) / 1000, percent: pct(steps.get(step) ?? 0) })),
  };
}

export function formatProfileSummary(s: ProfileSummary, kind: 'cpu' | 'allocations' = 'cpu'): string {
  // An allocation profile's weights are bytes: its "ms" are kB, shown as MB.
  const unit = kind === 'cpu' ? 'ms' : 'MB';
  const value = (ms: number) => (kind === 'cpu' ? fmt(ms) : fmt(ms / 1000, 1));
  return [
    kind === 'cpu' ? `profile: ${fmt(s.totalMs / 1000, 1)} s of samples` : `allocations: ${fmt(s.totalMs / 1000, 1)} MB sampled (garbage included)`,
    '',
    `areas (self ${kind === 'cpu' ? 'time' : 'allocations'}; built-ins charged to their caller):`,
    table(
      ['area', unit, '%'],
      s.areas.map((a) => [a.area, value(a.ms), fmt(a.percent, 1)]),
    ),
    '',
    'projector steps (inclusive: the step is on the stack):',
    table(
      ['step', unit, '%'],
      s.steps.map((a) => [a.step, value(a.ms), fmt(a.percent, 1)]),
    ),
    '',
    `top functions by self ${kind === 'cpu' ? 'time' : 'allocations'}:`,
    table(
      ['function', 'where', `self ${unit}`, '%'],
      s.top.map((t) => [t.function, t.where, value(t.selfMs), fmt(t.percent, 1)]),
    ),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile|file.heapprofile> [--top N] [--from-s S] [--to-s S] [--json]\n');
    process.exit(2);
  }
  const topIndex = args.indexOf('--top');
  const topN = topIndex >= 0 ? Math.max(1, Math.min(200, Number(args[topIndex + 1]) || 25)) : 25;
  const seconds = (flag: string): number | undefined => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : undefined);
  const window = { fromS: seconds('--from-s'), toS: seconds('--to-s') };
  for (const [flag, value] of Object.entries(window))
    if (value !== undefined && !(value >= 0)) throw new Error(`--${flag === 'fromS' ? 'from-s' : 'to-s'}: a number of seconds (got ${String(value)})`);
  const parsed = JSON.parse(await readFile(file, 'utf8')) as CpuProfile | HeapProfile;
  const heap = 'head' in parsed;
  if (heap && (window.fromS !== undefined || window.toS !== undefined)) throw new Error('--from-s/--to-s: an allocation profile has no clock');
  const summary = summarizeProfile(heap ? allocationsAsProfile(parsed) : parsed, topN, {
    ...(window.fromS !== undefined ? { fromS: window.fromS } : {}),
    ...(window.toS !== undefined ? { toS: window.toS } : {}),
  });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(summary, null, 2)}\n` : formatProfileSummary(summary, heap ? 'allocations' : 'cpu'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main();
