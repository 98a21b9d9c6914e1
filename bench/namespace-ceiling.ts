/**
 * The raw OpenSearch `_bulk` ceiling for the documents of a kept bench namespace's live generation
 * (user documents, history records, fact intervals), measured on its own: the documents are spooled
 * to a file and written again, 1 and 2 concurrent streams, into fresh indices with the same mapping
 * (bench/ceilings/bulk-ceiling.ts, as the other benches measure it). Beside it, what the live
 * projector wrote into those indices (OpenSearch's indexing counters: every index and delete
 * operation, overwrites included) and, given the drain's duration, its documents/s against the
 * ceiling.
 *
 * For a namespace that a bench kept (`--keep`, or a bench paused while its projector drained the
 * full history): the ceiling of the very documents an earlier step drained, without draining again.
 *
 *   npx tsx bench/namespace-ceiling.ts --namespace bench-xxxxxxxx [--drain-s 4272] [--delete] [--json] [--out file]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BulkCeilingResult, indexingTotals, measureStreams, spoolDocs } from './ceilings/bulk-ceiling.ts';
import { parseFlags } from './support/args.ts';
import { createBenchNamespace } from './support/bench-namespace.ts';
import { openLivePipeline } from './support/live-pipeline.ts';
import { describeMachine, type MachineInfo } from './support/machine.ts';
import { emitReport, fmt, mib, progress, runIfMain, table } from './support/report.ts';

export const NAMESPACE_CEILING_FLAGS = {
  namespace: { default: '', help: 'the kept bench namespace (bench-<8 hex digits>); required' },
  'drain-s': { default: 0, help: "the live drain's duration in seconds, for the projector's documents/s against the ceiling (0: not given)", min: 0, max: 86400 },
  delete: { default: false, help: 'delete the namespace afterwards' },
  out: { default: '', help: 'also write the JSON report to this file' },
  json: { default: false, help: 'print the JSON report on stdout instead of the table' },
} as const;

export interface NamespaceCeilingReport {
  bench: 'namespace-ceiling';
  at: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  generation: string;
  events: number;
  /** distinct documents per index of the live generation */
  documents: Record<string, number>;
  /** index + delete operations OpenSearch counted on those indices (the live projector's writes, overwrites included) */
  written: { index: number; delete: number; total: number };
  spool: { bytes: number; ms: number };
  bulk: BulkCeilingResult[];
  bulkBest: BulkCeilingResult;
  /** given --drain-s: written.total ÷ drain time, and that ÷ the best ceiling */
  projector?: { drainS: number; documentsPerSecond: number; ratio: number };
}

export async function runNamespaceCeiling(flags: ReturnType<typeof parseFlags<typeof NAMESPACE_CEILING_FLAGS>>): Promise<NamespaceCeilingReport> {
  if (!flags.namespace) throw new Error('--namespace is required (the bench namespace to measure, bench-<8 hex digits>)');
  const ns = createBenchNamespace(process.env, flags.namespace);
  const machine = await describeMachine(ns.config);
  progress(
    `machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpuModel}; Node ${machine.node}, Kafka ${machine.kafka}, OpenSearch ${machine.opensearch}, Redis ${machine.redis}; load ${machine.loadAverage}`,
  );
  const pipeline = await openLivePipeline(ns);
  try {
    const { opensearch } = pipeline.clients;
    const { indices } = pipeline;
    const ends = await pipeline.endOffsets();
    const events = [...ends.values()].reduce((sum, last) => sum + Number(last) + 1, 0);
    const lag = await pipeline.lag();
    if (events === 0) throw new Error(`namespace ${ns.prefix} has no events`);
    if (lag > 0) throw new Error(`namespace ${ns.prefix} is not drained (lag ${lag}): its live generation must hold every event before its documents are measured`);
    const sources = [indices.users, indices.facts];
    const totals = await indexingTotals(opensearch, sources);
    const written = { index: totals.index, delete: totals.delete, total: totals.index + totals.delete };
    progress(
      `${ns.prefix}, generation ${pipeline.space.generation}: ${fmt(events)} events; written by the projector: ${fmt(written.index)} index and ${fmt(written.delete)} delete operations`,
    );

    progress("spooling the live generation's documents to a file");
    const spool = await spoolDocs(
      opensearch,
      sources.map((index) => ({ index, target: `${index}-ceiling`, bytes: index === indices.users })),
      join(tmpdir(), `${ns.prefix}-ceiling.spool`),
    );
    const documents = Object.fromEntries(sources.map((index, i) => [index, spool.counts[i]!]));
    progress(`spooled ${sources.map((index, i) => `${fmt(spool.counts[i]!)} from ${index}`).join(', ')} (${mib(spool.bytes)}) in ${fmt(spool.ms / 1000, 1)} s`);
    let ceiling: Awaited<ReturnType<typeof measureStreams>>;
    try {
      ceiling = await measureStreams(opensearch, spool, machine.pids, '');
    } finally {
      await spool.remove();
      for (const index of sources) await opensearch.indices.delete({ index: `${index}-ceiling` }, { ignore: [404] });
    }
    const { bulk, bulkBest } = ceiling;
    const drainS = flags['drain-s'];
    const projector = drainS > 0 ? { drainS, documentsPerSecond: written.total / drainS, ratio: written.total / drainS / bulkBest.docsPerSecond } : undefined;
    return {
      bench: 'namespace-ceiling',
      at: new Date().toISOString(),
      options: { ...flags },
      machine,
      generation: pipeline.space.generation,
      events,
      documents,
      written,
      spool: { bytes: spool.bytes, ms: spool.ms },
      bulk,
      bulkBest,
      ...(projector ? { projector } : {}),
    };
  } finally {
    await pipeline.close();
    if (flags.delete) {
      progress(`deleting namespace ${ns.prefix}`);
      await ns.cleanup();
    }
  }
}

export function formatNamespaceCeiling(r: NamespaceCeilingReport): string {
  const m = r.machine;
  const distinct = Object.values(r.documents).reduce((a, b) => a + b, 0);
  const rows: [string, string][] = [
    ['events', fmt(r.events)],
    ...Object.entries(r.documents).map(([index, n]): [string, string] => [`distinct documents in ${index}`, fmt(n)]),
    ['distinct documents, all', fmt(distinct)],
    ['written by the projector (index + delete ops)', fmt(r.written.total)],
    ['spool MiB / s', `${fmt(r.spool.bytes / 2 ** 20)} / ${fmt(r.spool.ms / 1000, 1)}`],
    ...r.bulk.map((b): [string, string] => [
      `bulk ceiling ${b.streams} stream(s) docs/s (s; OpenSearch cores; bench cores)`,
      `${fmt(b.docsPerSecond)} (${fmt(b.ms / 1000, 1)}; ${fmt(b.opensearchCores, 2)}; ${fmt(b.benchCores, 2)})`,
    ]),
    ['bulk ceiling best docs/s', fmt(r.bulkBest.docsPerSecond)],
    ...(r.projector
      ? ([
          ['live drain s (given)', fmt(r.projector.drainS, 1)],
          ['projector docs/s over the drain', fmt(r.projector.documentsPerSecond)],
          ['ratio projector docs/s ÷ ceiling', fmt(r.projector.ratio, 2)],
        ] as [string, string][])
      : []),
  ];
  return [
    `bulk ceiling of namespace ${r.options.namespace}, generation ${r.generation}`,
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; Kafka ${m.kafka}; OpenSearch ${m.opensearch}; Redis ${m.redis}; load average at start ${m.loadAverage}`,
    `code: ${m.source.commit}${m.source.uncommitted.length > 0 ? ` with uncommitted changes in ${m.source.uncommitted.join(', ')}` : ''}`,
    '',
    table(['figure', 'value'], rows),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const flags = parseFlags('tsx bench/namespace-ceiling.ts', NAMESPACE_CEILING_FLAGS);
  await emitReport(await runNamespaceCeiling(flags), flags, formatNamespaceCeiling);
}

runIfMain(import.meta.url, main);
