/**
 * How long the projector takes to read an account back from Redis after its cache dropped it
 * (src/projector/account-cache.ts): the drain's "reads of accounts the budget dropped". The largest
 * account of benchPreset(scale) is applied in memory (planBatch over its events, in the history's
 * order), committed to Redis through the real account store in a namespace of its own, then read
 * back `--runs` times. Printed per run: the store's `load()` (in pieces, decision 70), and the whole read's steps timed apart (the five hashes
 * fetched in one MULTI, the raw facts decoded, the derived facts loaded); then the medians, and the
 * milliseconds per MiB of the hashes' bytes; with `--expose-gc`, the heap the account holds once read
 * (what the cache keeps of it). Then, in a fresh process per read (bench/support/load-peak-worker.ts),
 * `--runs` reads of each kind alternated, whole (one MULTI) and in pieces (decision 70): how far
 * each rises above its resident memory before the read, and the longest it holds the event loop.
 * The namespace is deleted at the end.
 *
 *   node --expose-gc --import tsx bench/account-load.ts [--scale 0.1] [--runs 5]
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_DEDUPE_WINDOW_MS, loadFacts } from '../projections/index.ts';
import { decodeRaw } from '../src/records/account-records.ts';
import { createAccountStore, unwrap } from '../src/redis/account-store.ts';
import { accountKeys } from '../src/redis/keys.ts';
import { heldRawFacts, largestAccountPlan, wholeCommit } from './support/accounts.ts';
import { parseFlags } from './support/args.ts';
import { median, progress } from './support/report.ts';
import { workerServers } from './support/bench-namespace.ts';

const flags = parseFlags('bench/account-load.ts', {
  scale: { default: 0.1, help: 'benchPreset scale', min: 0.001, max: 1 },
  runs: { default: 5, help: 'reads of the account', min: 1, max: 50 },
  'piece-size': { default: 0, help: 'fields per piece of the reads in pieces (0: the store default)', min: 0, max: 1_000_000 },
});

const { accountId, events, plan } = largestAccountPlan(flags.scale);

const { redis } = workerServers();
await redis.connect();
const space = { namespace: `bench-load-${process.pid}`, generation: 'g1' };
const store = createAccountStore(redis, space);
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

const rawFacts = heldRawFacts(plan);
try {
  progress(`${accountId}: committing ${plan.changes.length} fact changes and ${rawFacts} raw facts to Redis`);
  const version = await store.commit(wholeCommit(accountId, plan));
  if (version === null) throw new Error('the commit was refused');
  const k = accountKeys(space, accountId);
  const bytes = Number(await redis.memory('USAGE', k.rawFacts, 'SAMPLES', '0')) + Number(await redis.memory('USAGE', k.facts, 'SAMPLES', '0'));
  const mib = bytes / 2 ** 20;
  process.stdout.write(`${accountId}: ${events.length} events, ${rawFacts} raw facts; Redis holds ${mib.toFixed(1)} MiB of its facts and raw facts\n`);
  process.stdout.write('run   load ms   fetch ms   decode raw ms   load facts ms\n');
  const rows = { load: [] as number[], fetch: [] as number[], raw: [] as number[], facts: [] as number[] };
  for (let run = 1; run <= flags.runs; run++) {
    let t = process.hrtime.bigint();
    const loaded = await store.load(accountId, DEFAULT_DEDUPE_WINDOW_MS);
    rows.load.push(ms(t));
    if (loaded.raw.values.size !== rawFacts) throw new Error(`read ${loaded.raw.values.size} raw facts back, wrote ${rawFacts}`);
    t = process.hrtime.bigint();
    const [flat, rawValues] = unwrap(await redis.multi().hgetall(k.facts).hgetall(k.rawFacts).exec()) as Record<string, string>[];
    rows.fetch.push(ms(t));
    t = process.hrtime.bigint();
    decodeRaw(Object.entries(rawValues!));
    rows.raw.push(ms(t));
    t = process.hrtime.bigint();
    loadFacts(Object.entries(flat!));
    rows.facts.push(ms(t));
    process.stdout.write(
      `${String(run).padStart(3)} ${rows.load.at(-1)!.toFixed(0).padStart(9)} ${rows.fetch.at(-1)!.toFixed(0).padStart(10)} ${rows.raw.at(-1)!.toFixed(0).padStart(15)} ${rows.facts.at(-1)!.toFixed(0).padStart(15)}\n`,
    );
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const held = await store.load(accountId, DEFAULT_DEDUPE_WINDOW_MS);
    gc();
    const bytes = process.memoryUsage().heapUsed - before;
    process.stdout.write(`the account as read holds ${(bytes / 2 ** 20).toFixed(1)} MiB of heap, ${(bytes / held.raw.values.size).toFixed(0)} bytes per raw fact\n`);
  }
  /** each kind's reads: the rise above the resident memory before the read (MiB), its time and the longest it held the event loop (ms) */
  const reads = { whole: [] as { rise: number; ms: number; heldMs: number }[], pieces: [] as { rise: number; ms: number; heldMs: number }[] };
  const worker = join(dirname(fileURLToPath(import.meta.url)), 'support', 'load-peak-worker.ts');
  process.stdout.write('run   kind     before MiB   peak MiB   rise MiB     ms   loop held ms\n');
  for (let run = 1; run <= flags.runs; run++)
    for (const kind of ['whole', 'pieces'] as const) {
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--import',
        'tsx',
        worker,
        space.namespace,
        space.generation,
        accountId,
        kind === 'whole' ? 'whole' : String(flags['piece-size'] || 'default'),
      ]);
      const read = JSON.parse(stdout) as { before: number; peak: number; ms: number; heldMs: number; rawFacts: number };
      if (read.rawFacts !== rawFacts) throw new Error(`the ${kind} read gave ${read.rawFacts} raw facts, not ${rawFacts}`);
      const rise = (read.peak - read.before) / 2 ** 20;
      reads[kind].push({ rise, ms: read.ms, heldMs: read.heldMs });
      process.stdout.write(
        `${String(run).padStart(3)}   ${kind.padEnd(6)} ${(read.before / 2 ** 20).toFixed(0).padStart(12)} ${(read.peak / 2 ** 20).toFixed(0).padStart(10)} ${rise.toFixed(0).padStart(10)} ${read.ms.toFixed(0).padStart(6)} ${read.heldMs.toFixed(0).padStart(14)}\n`,
      );
    }
  const of = (kind: keyof typeof reads, measure: 'rise' | 'ms' | 'heldMs') => median(reads[kind].map((r) => r[measure])).toFixed(0);
  process.stdout.write(
    `a process reading the account rises by ${of('whole', 'rise')} MiB whole (${of('whole', 'ms')} ms, the event loop held up to ${of('whole', 'heldMs')} ms), ` +
      `${of('pieces', 'rise')} MiB in pieces (${of('pieces', 'ms')} ms, up to ${of('pieces', 'heldMs')} ms), medians of ${flags.runs}\n`,
  );
  const load = median(rows.load);
  process.stdout.write(
    `medians: load ${load.toFixed(0)} ms (${(load / mib).toFixed(1)} ms per MiB held in Redis), fetch ${median(rows.fetch).toFixed(0)}, ` +
      `decode raw ${median(rows.raw).toFixed(0)}, load facts ${median(rows.facts).toFixed(0)} ms\n`,
  );
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${space.namespace}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}
