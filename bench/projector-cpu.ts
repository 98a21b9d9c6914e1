/**
 * The projector's CPU per event, without servers: what one thread spends on an event before Redis
 * and OpenSearch see it. benchPreset(scale) is generated once; each run then, per account in the
 * history's order and in batches of `--batch` events (a Kafka fetch's share of one account):
 *   1. decodes every message (schemas/decode.ts, as the consumer does);
 *   2. plans it (planBatch, cut at WORK_PER_COMMIT as commitInPieces cuts it), which applies the
 *      rules and derives every changed user's document;
 *   3. serializes what a commit writes: each changed user's indexed document (toIndexedUser, then
 *      JSON) and each closed fact interval (JSON).
 * Printed per run: µs per event for each step and in all, and GC pauses; medians in the last column.
 * The process is CPU-bound and alone, so its spread is small where the drain benches' is large: it
 * is the A/B of a change to the rules core or the document (run the two codes alternately).
 *
 *   npx tsx bench/projector-cpu.ts [--scale 0.1] [--runs 5] [--batch 500] [--json]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { DEFAULT_DEDUPE_WINDOW_MS, emptyAccount } from '../projections/index.ts';
import { type DecodeInput, decodeEvent } from '../schemas/decode.ts';
import { benchPreset, generateHistory } from '../src/demo/generator.ts';
import { toIndexedUser } from '../src/opensearch/user-document.ts';
import { WORK_PER_COMMIT } from '../src/projector/project-batch.ts';
import { type PositionedEvent, planBatch } from '../src/projector/plan-batch.ts';
import { emptyRaw } from '../src/records/fact-intervals.ts';
import { parseFlags } from './support/args.ts';
import { fmt, median, progress, table } from './support/report.ts';

const flags = parseFlags('bench/projector-cpu.ts', {
  scale: { default: 0.1, help: 'benchPreset scale', min: 0.001, max: 1 },
  runs: { default: 5, help: 'runs (each from empty accounts)', min: 1, max: 20 },
  batch: { default: 500, help: 'events of one account per batch', min: 1, max: 100_000 },
  seed: { default: 42, help: 'history seed', min: 0, max: 2 ** 31 },
  json: { default: false, help: 'print JSON instead of the table' },
});

type Message = DecodeInput & { key: string; value: string };

progress(`generating benchPreset(${flags.scale}), seed ${flags.seed}`);
const byAccount = new Map<string, Message[]>();
let total = 0;
for (const g of generateHistory({ ...benchPreset(flags.scale), seed: flags.seed })) {
  const list = byAccount.get(g.key) ?? [];
  list.push({ key: g.key, value: JSON.stringify(g.value), topic: g.topic });
  byAccount.set(g.key, list);
  total += 1;
}
progress(`${total.toLocaleString('en-US')} events over ${byAccount.size} accounts`);

interface RunResult {
  decodeUs: number;
  planUs: number;
  serializeUs: number;
  totalUs: number;
  gcPct: number;
  documents: number;
  intervals: number;
}

async function run(): Promise<RunResult> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  let decodeMs = 0;
  let planMs = 0;
  let serializeMs = 0;
  let documents = 0;
  let intervals = 0;
  let bytes = 0;
  const started = performance.now();
  for (const [accountId, messages] of byAccount) {
    const state = emptyAccount();
    const raw = emptyRaw();
    let version = 0;
    let offset = 0n;
    for (let at = 0; at < messages.length; at += flags.batch) {
      let t = performance.now();
      let fresh: PositionedEvent[] = [];
      for (const message of messages.slice(at, at + flags.batch)) {
        const decoded = decodeEvent(message);
        if (decoded.ok) fresh.push({ event: decoded.event, offset: (offset += 1n) });
      }
      decodeMs += performance.now() - t;
      while (fresh.length > 0) {
        t = performance.now();
        version += 1;
        const plan = planBatch(state, raw, { accountId, topic: 'all', partition: 0, version }, fresh, DEFAULT_DEDUPE_WINDOW_MS, WORK_PER_COMMIT);
        planMs += performance.now() - t;
        t = performance.now();
        for (const doc of plan.docs.values()) if (doc) bytes += JSON.stringify(toIndexedUser(accountId, doc)).length;
        for (const record of plan.intervals.values()) bytes += JSON.stringify(record).length;
        serializeMs += performance.now() - t;
        documents += plan.docs.size;
        intervals += plan.intervals.size;
        fresh = fresh.slice(plan.consumed);
      }
    }
  }
  const totalMs = performance.now() - started;
  // The collector's entries are delivered on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  if (bytes === 0) throw new Error('nothing was serialized');
  const us = (ms: number) => (ms * 1000) / total;
  return { decodeUs: us(decodeMs), planUs: us(planMs), serializeUs: us(serializeMs), totalUs: us(totalMs), gcPct: (100 * gcMs) / totalMs, documents, intervals };
}

const results: RunResult[] = [];
for (let i = 0; i < flags.runs; i++) {
  results.push(await run());
  const r = results.at(-1)!;
  progress(
    `run ${i + 1}/${flags.runs}: ${fmt(r.totalUs, 1)} µs per event (decode ${fmt(r.decodeUs, 1)}, plan ${fmt(r.planUs, 1)}, serialize ${fmt(r.serializeUs, 1)}), GC ${fmt(r.gcPct, 1)} %`,
  );
}

const rows: [string, (r: RunResult) => number, number][] = [
  ['decode µs/event', (r) => r.decodeUs, 1],
  ['plan (rules, derive) µs/event', (r) => r.planUs, 1],
  ['serialize (documents, intervals) µs/event', (r) => r.serializeUs, 1],
  ['all µs/event', (r) => r.totalUs, 1],
  ['events/s of one core', (r) => 1e6 / r.totalUs, 0],
  ['GC pauses %', (r) => r.gcPct, 1],
  ['documents serialized', (r) => r.documents, 0],
  ['closed intervals serialized', (r) => r.intervals, 0],
];
if (flags.json) {
  process.stdout.write(`${JSON.stringify({ scale: flags.scale, batch: flags.batch, events: total, runs: results }, null, 2)}\n`);
} else {
  process.stdout.write(`projector CPU per event, benchPreset(${flags.scale}), seed ${flags.seed}, batches of ${flags.batch} events; Node ${process.version}\n\n`);
  process.stdout.write(
    `${table(
      ['figure', ...results.map((_, i) => `run ${i + 1}`), 'median'],
      rows.map(([name, get, digits]) => [name, ...results.map((r) => fmt(get(r), digits)), fmt(median(results.map(get)), digits)]),
    )}\n`,
  );
}
