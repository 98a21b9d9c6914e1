/**
 * How far `verify` of the largest account raises a process (src/verify.ts): the rebuild verifies
 * every account of the new generation after its fill, and on the full history its peak is that
 * step's (docs/benchmarks.md). The largest account of benchPreset(scale) is applied in memory
 * (planBatch over its events, in the history's order), committed to Redis through the real
 * account store, and its user documents and closed fact intervals written to OpenSearch, all in a
 * namespace of its own. Then `--runs` times, in a fresh process each
 * (bench/support/verify-peak-worker.ts), one `verifyAccount` of it: how far the resident memory
 * rises above where it stood before, how long it takes, and the differences it finds (none, or the
 * bench's setup is wrong), under a small memory budget so that the rise is what it keeps alive. The
 * namespace is deleted at the end.
 *
 *   npx tsx bench/verify-memory.ts [--scale 0.1] [--runs 3] [--budget-mb 256]
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { ensureTemplates, factsIndex, refreshIndices, usersIndex } from '../src/opensearch/indices.ts';
import { createOpenSearchDocuments } from '../src/opensearch/documents.ts';
import { toIndexedUser, userDocId } from '../src/opensearch/user-document.ts';
import type { DocOp } from '../src/ports/documents.ts';
import { createAccountStore } from '../src/redis/account-store.ts';
import { heldRawFacts, largestAccountPlan, wholeCommit } from './support/accounts.ts';
import { parseFlags } from './support/args.ts';
import { createBenchNamespace } from './support/bench-namespace.ts';
import { median, progress } from './support/report.ts';

const flags = parseFlags('bench/verify-memory.ts', {
  scale: { default: 0.1, help: 'benchPreset scale', min: 0.001, max: 1 },
  runs: { default: 3, help: 'verifications of the account, each in a fresh process', min: 1, max: 20 },
  'budget-mb': { default: 256, help: "each verifying process's memory budget (collects once its heap passes it)", min: 64, max: 65_536 },
});

/** Ops written per `_bulk` while the account is set up. */
const SETUP_OPS = 5_000;

const { accountId, plan } = largestAccountPlan(flags.scale);

const ns = createBenchNamespace();
const generation = 'g1';
const redis = new Redis(ns.config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
const opensearch = new Client({ node: ns.config.opensearchUrl });
try {
  await redis.connect();
  const store = createAccountStore(redis, { namespace: ns.prefix, generation });
  progress(`${accountId}: committing ${plan.changes.length} fact changes to Redis`);
  const version = await store.commit(wholeCommit(accountId, plan, plan.counterDeltas));
  if (version === null) throw new Error('the commit was refused');

  await ensureTemplates(opensearch, { namespace: ns.prefix });
  const indices = { users: usersIndex(ns.prefix, generation), facts: factsIndex(ns.prefix, generation) };
  const documents = createOpenSearchDocuments(opensearch);
  const ops: DocOp[] = [];
  for (const [userId, doc] of plan.docs) if (doc) ops.push({ op: 'index', index: indices.users, id: userDocId(accountId, userId), version, doc: toIndexedUser(accountId, doc) });
  for (const [id, record] of plan.intervals) ops.push({ op: 'index', index: indices.facts, id, version, doc: JSON.stringify(record) });
  progress(`${accountId}: writing ${plan.docs.size} user documents and ${plan.intervals.size} closed fact intervals to OpenSearch`);
  for (let i = 0; i < ops.length; i += SETUP_OPS) await documents.write(ops.slice(i, i + SETUP_OPS), { versionOffset: 0 });
  await refreshIndices(opensearch, `${indices.users},${indices.facts}`);

  const worker = join(dirname(fileURLToPath(import.meta.url)), 'support', 'verify-peak-worker.ts');
  const runs: { rise: number; ms: number }[] = [];
  process.stdout.write('run   before MiB   peak MiB   rise MiB       ms   users   differences\n');
  for (let run = 1; run <= flags.runs; run++) {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', worker, ns.prefix, generation, accountId, String(flags['budget-mb'])], {
      maxBuffer: 64 * 2 ** 20,
    });
    const read = JSON.parse(stdout) as { before: number; peak: number; ms: number; users: number; differences: string[] };
    const rise = (read.peak - read.before) / 2 ** 20;
    runs.push({ rise, ms: read.ms });
    process.stdout.write(
      `${String(run).padStart(3)} ${(read.before / 2 ** 20).toFixed(0).padStart(12)} ${(read.peak / 2 ** 20).toFixed(0).padStart(10)} ${rise.toFixed(0).padStart(10)} ${read.ms.toFixed(0).padStart(8)} ${String(read.users).padStart(7)} ${String(read.differences.length).padStart(13)}\n`,
    );
    if (read.differences.length > 0) throw new Error(`verify found differences in the bench's own account: ${read.differences.slice(0, 3).join('; ')}`);
  }
  process.stdout.write(
    `verify of ${accountId} (${plan.docs.size} users, ${heldRawFacts(plan)} raw facts) raises a process by ${median(runs.map((r) => r.rise)).toFixed(0)} MiB in ${median(runs.map((r) => r.ms)).toFixed(0)} ms, medians of ${flags.runs}\n`,
  );
} finally {
  redis.disconnect();
  await opensearch.close();
  await ns.cleanup();
}
