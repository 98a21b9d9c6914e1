/**
 * How much heap an account takes in the projector's cache, per raw fact: the figure behind
 * src/projector/account-cache.ts `BYTES_PER_RAW_FACT`, which sizes the cache's memory budget
 * (`ACCESS_INDEX_ACCOUNT_CACHE_MB`). Each account of benchPreset(scale) is applied in memory the
 * way the projector applies it (planBatch over its events, in the history's order), the garbage is
 * collected, and the heap it holds is measured; printed per account: raw facts, heap MiB, bytes
 * per raw fact, and the cache's estimate beside the measure. No server is involved.
 *
 *   node --expose-gc --import tsx bench/account-memory.ts [--scale 0.05] [--accounts 6]
 */
import { DEFAULT_DEDUPE_WINDOW_MS, emptyAccount } from '../projections/index.ts';
import { decodeEvent } from '../schemas/decode.ts';
import { benchPreset, generateHistory } from '../src/demo/generator.ts';
import { estimateBytes } from '../src/projector/account-cache.ts';
import { type PositionedEvent, planBatch } from '../src/projector/plan-batch.ts';
import type { EventRef } from '../src/records/fact-intervals.ts';
import { parseFlags } from './support/args.ts';

const flags = parseFlags('bench/account-memory.ts', {
  scale: { default: 0.05, help: 'benchPreset scale', min: 0.001, max: 1 },
  accounts: { default: 6, help: 'the largest N accounts are measured', min: 1, max: 200 },
});

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc --import tsx bench/account-memory.ts\n');
  process.exit(2);
}

const byAccount = new Map<string, PositionedEvent[]>();
let offset = 0n;
for (const g of generateHistory({ ...benchPreset(flags.scale), seed: 42 })) {
  const decoded = decodeEvent({ key: g.key, value: JSON.stringify(g.value), topic: g.topic });
  if (!decoded.ok) continue;
  const list = byAccount.get(g.key) ?? [];
  list.push({ event: decoded.event, offset: (offset += 1n) });
  byAccount.set(g.key, list);
}
const largest = [...byAccount].sort(([, a], [, b]) => b.length - a.length).slice(0, flags.accounts);
process.stdout.write(`benchPreset(${flags.scale}): ${byAccount.size} accounts; the ${largest.length} with the most events, applied in memory one at a time\n`);
process.stdout.write('account              events   raw facts   heap MiB   bytes/raw fact   estimate MiB\n');
const ratios: number[] = [];
/** every measured account stays alive: freeing one would shrink the heap under the next measure */
const kept: unknown[] = [];
for (const [accountId, events] of largest) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const state = emptyAccount();
  const raw = { values: new Map<string, string>(), opened: new Map<string, EventRef>() };
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
