/**
 * How much heap an account takes in the projector's cache, per raw fact: the figure behind
 * src/projector/account-cache.ts `BYTES_PER_RAW_FACT`, which sizes the cache's memory budget
 * (`ACCESS_INDEX_ACCOUNT_CACHE_MB`). Each account of benchPreset(scale) is applied in memory the
 * way the projector applies it (planBatch over its events, in the history's order), the garbage is
 * collected, and the heap it holds is measured; printed per account: raw facts, heap MiB, bytes
 * per raw fact, and the cache's estimate beside the measure. No server is involved.
 * Then the largest account is applied again in rounds as the projector takes them (ROUND_EVENTS
 * events, cut at WORK_PER_COMMIT), each round's changed documents and closed intervals serialized
 * as a commit holds them until they are written (documents as their UTF-8 bytes, intervals as
 * strings); the memory the largest round holds (heap and buffers) is printed: the figure behind
 * HEAVY_ROUND_BYTES (src/projector/catching-up.ts).
 *
 *   node --expose-gc --import tsx bench/account-memory.ts [--scale 0.05] [--accounts 6]
 */
import { DEFAULT_DEDUPE_WINDOW_MS, emptyAccount } from '../projections/index.ts';
import { toIndexedUser } from '../src/opensearch/user-document.ts';
import { estimateBytes } from '../src/projector/account-cache.ts';
import { planBatch } from '../src/projector/plan-batch.ts';
import { WORK_PER_COMMIT } from '../src/projector/project-batch.ts';
import { HEAVY_ROUND_BYTES } from '../src/projector/catching-up.ts';
import { ROUND_EVENTS } from '../src/projector/projector.ts';
import { emptyRaw } from '../src/records/fact-intervals.ts';
import { largestAccounts } from './support/accounts.ts';
import { parseFlags } from './support/args.ts';
import { progress } from './support/report.ts';

const flags = parseFlags('bench/account-memory.ts', {
  scale: { default: 0.05, help: 'benchPreset scale', min: 0.001, max: 1 },
  accounts: { default: 6, help: 'the largest N accounts are measured', min: 1, max: 200 },
});

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc --import tsx bench/account-memory.ts\n');
  process.exit(2);
}

const { accounts, largest } = largestAccounts(flags.scale, flags.accounts);
process.stdout.write(`benchPreset(${flags.scale}): ${accounts} accounts; the ${largest.length} with the most events, applied in memory one at a time\n`);
process.stdout.write('account              events   raw facts   heap MiB   bytes/raw fact   estimate MiB\n');
const ratios: number[] = [];
/** every measured account stays alive: freeing one would shrink the heap under the next measure */
const kept: unknown[] = [];
for (const [accountId, events] of largest) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const state = emptyAccount();
  const raw = emptyRaw();
  planBatch(state, raw, { accountId, topic: 'all', partition: 0, version: 1 }, events, DEFAULT_DEDUPE_WINDOW_MS);
  gc();
  const held = process.memoryUsage().heapUsed - before;
  const estimate = estimateBytes({ state, raw, version: 1, offsets: new Map(), dirty: new Map(), intervalOutbox: new Map() });
  const perFact = held / raw.values.size;
  ratios.push(perFact);
  process.stdout.write(
    `${accountId.padEnd(18)} ${String(events.length).padStart(8)} ${String(raw.values.size).padStart(11)} ${(held / 2 ** 20).toFixed(1).padStart(10)} ${perFact.toFixed(0).padStart(16)} ${(estimate / 2 ** 20).toFixed(1).padStart(14)}\n`,
  );
  kept.push(state, raw);
}
ratios.sort((a, b) => a - b);
process.stdout.write(`${kept.length / 2} accounts held; median bytes per raw fact: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(0)}\n`);

/** The heap a round's serialized documents and intervals hold: measured with them, then without. */
/** The heap and the buffers' memory outside it (a document is held as its UTF-8 bytes, decision 61). */
const heldNow = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

function heldBy(ops: (string | Buffer)[]): number {
  gc!();
  const withOps = heldNow();
  ops.length = 0;
  gc!();
  return withOps - heldNow();
}

const [accountId, events] = largest[0]!;
const state = emptyAccount();
const raw = emptyRaw();
let round = { at: 0, docs: 0, intervals: 0, chars: 0 };
/** the longest round's serialized ops, kept until measured at the end (a full collection per round would take minutes) */
let longest: (string | Buffer)[] = [];
let rounds = 0;
for (let at = 0; at < events.length; rounds++) {
  const plan = planBatch(
    state,
    raw,
    { accountId, topic: 'all', partition: 0, version: rounds + 1 },
    events.slice(at, at + ROUND_EVENTS),
    DEFAULT_DEDUPE_WINDOW_MS,
    WORK_PER_COMMIT,
  );
  // As a commit holds them: the documents as their UTF-8 bytes, the intervals as JSON strings.
  const ops: (string | Buffer)[] = [];
  for (const doc of plan.docs.values()) if (doc) ops.push(Buffer.from(JSON.stringify(toIndexedUser(accountId, doc))));
  for (const record of plan.intervals.values()) ops.push(JSON.stringify(record));
  const chars = ops.reduce((n, op) => n + op.length, 0);
  if (chars > round.chars) {
    round = { at, docs: plan.docs.size, intervals: plan.intervals.size, chars };
    longest = ops;
  }
  at += plan.consumed;
  if (rounds % 20 === 19) progress(`${accountId}: ${rounds + 1} rounds, ${at} of ${events.length} events`);
}
const bytes = heldBy(longest);
process.stdout.write(
  `${accountId} in ${rounds} rounds of up to ${ROUND_EVENTS} events and ${WORK_PER_COMMIT} work: the largest (from event ${round.at}) holds ` +
    `${round.docs} documents and ${round.intervals} intervals, ${(round.chars / 2 ** 20).toFixed(1)} MiB of JSON, ` +
    `${(bytes / 2 ** 20).toFixed(1)} MiB of memory, heap and buffers (HEAVY_ROUND_BYTES: ${HEAVY_ROUND_BYTES / 2 ** 20} MiB)\n`,
);
