/**
 * Which events write how many user documents, without servers: the churn of the `--accounts`
 * largest accounts of benchPreset(scale) (the second half of each one's history, after its import),
 * planned one event at a time as the projector plans it (planBatch). Per event type: the events, the
 * documents the projector writes, and the documents whose contract form (with the names of inboxes
 * and queues) changes; the difference is what storing no names saves (decision 64: a rename writes
 * nothing). Deterministic: one run says it.
 *
 *   npx tsx bench/documents-by-event.ts [--scale 0.1] [--accounts 4] [--json]
 */
import { DEFAULT_DEDUPE_WINDOW_MS, type UserDoc, affectedUsers, deriveUser, emptyAccount, sameDoc } from '../projections/index.ts';
import { type DecodeInput, decodeEvent } from '../schemas/decode.ts';
import { benchPreset, generateHistory } from '../src/demo/generator.ts';
import { planBatch } from '../src/projector/plan-batch.ts';
import { emptyRaw } from '../src/records/fact-intervals.ts';
import { parseFlags } from './support/args.ts';
import { fmt, progress, table } from './support/report.ts';

const flags = parseFlags('bench/documents-by-event.ts', {
  scale: { default: 0.1, help: 'benchPreset scale', min: 0.001, max: 1 },
  accounts: { default: 4, help: 'how many of the largest accounts', min: 1, max: 100 },
  seed: { default: 42, help: 'history seed', min: 0, max: 2 ** 31 },
  json: { default: false, help: 'print JSON instead of the table' },
});

progress(`generating benchPreset(${flags.scale}), seed ${flags.seed}`);
const byAccount = new Map<string, (DecodeInput & { key: string; value: string })[]>();
for (const g of generateHistory({ ...benchPreset(flags.scale), seed: flags.seed })) {
  const list = byAccount.get(g.key) ?? [];
  list.push({ key: g.key, topic: g.topic, value: JSON.stringify(g.value) });
  byAccount.set(g.key, list);
}
const largest = [...byAccount].sort((a, b) => b[1].length - a[1].length).slice(0, flags.accounts);

interface TypeCount {
  events: number;
  written: number;
  named: number;
}
const byType = new Map<string, TypeCount>();
for (const [accountId, messages] of largest) {
  progress(`${accountId}: ${fmt(messages.length)} events`);
  const state = emptyAccount();
  const raw = emptyRaw();
  const churnFrom = Math.floor(messages.length / 2);
  for (const [i, message] of messages.entries()) {
    const decoded = decodeEvent(message);
    if (!decoded.ok) continue;
    const counted = i >= churnFrom;
    // The contract's documents (with names) of the users the event may change, before it.
    const named = counted ? affectedUsers(state.facts, decoded.event) : new Set<string>();
    const before = new Map<string, UserDoc | null>([...named].map((u) => [u, deriveUser(state.facts, u)]));
    const plan = planBatch(
      state,
      raw,
      { accountId, topic: message.topic ?? 'all', partition: 0, version: i + 1 },
      [{ event: decoded.event, offset: BigInt(i) }],
      DEFAULT_DEDUPE_WINDOW_MS,
    );
    if (!counted) continue;
    const count = byType.get(decoded.event.type) ?? { events: 0, written: 0, named: 0 };
    byType.set(decoded.event.type, count);
    count.events += 1;
    count.written += plan.docs.size;
    for (const [userId, doc] of before) if (!sameDoc(doc, deriveUser(state.facts, userId))) count.named += 1;
  }
}

const rows = [...byType].sort((a, b) => b[1].named - a[1].named);
const total = rows.reduce((t, [, c]) => ({ events: t.events + c.events, written: t.written + c.written, named: t.named + c.named }), { events: 0, written: 0, named: 0 });
if (flags.json) {
  process.stdout.write(`${JSON.stringify({ scale: flags.scale, accounts: largest.map(([id]) => id), total, byType: Object.fromEntries(rows) }, null, 2)}\n`);
} else {
  process.stdout.write(
    `user documents per event, the churn of the ${flags.accounts} largest accounts of benchPreset(${flags.scale}), seed ${flags.seed}; Node ${process.version}\n\n` +
      `${table(
        ['event type', 'events', 'documents written', 'per event', 'with names (contract form)', 'saved by storing no names'],
        [...rows, ['all', total] as const].map(([type, c]) => [
          type,
          fmt(c.events),
          fmt(c.written),
          fmt(c.written / Math.max(1, c.events), 2),
          fmt(c.named),
          `${fmt((100 * (c.named - c.written)) / Math.max(1, c.named), 1)} %`,
        ]),
      )}\n`,
  );
}
