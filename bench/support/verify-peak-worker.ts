/**
 * One `verifyAccount` in a process of its own (bench/verify-memory.ts): how far the resident memory
 * rises above where it stood before, how long it takes, and what it finds. A fresh process per
 * verification: no freed pages of an earlier one to reuse, no heap grown by the bench's own work.
 *
 * Under a memory budget (src/memory-budget.ts) as the rebuild's process is, but a small one: the
 * process collects as soon as its heap passes it, so the rise is what the verification keeps alive
 * rather than garbage V8 has not collected yet (the rebuild verifies near its budget).
 *
 *   node --import tsx bench/support/verify-peak-worker.ts <namespace> <generation> <account> <budget MiB>
 */
import { Client } from '@opensearch-project/opensearch';
import { DEFAULT_DEDUPE_WINDOW_MS } from '../../projections/index.ts';
import { holdMemoryBudget } from '../../src/memory-budget.ts';
import { factsIndex, usersIndex } from '../../src/opensearch/indices.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { processMemory, resetPeakRss } from './load.ts';
import { verifyAccount } from '../../src/verify.ts';
import { workerServers } from './bench-namespace.ts';

const [namespace, generation, accountId, budgetMb] = process.argv.slice(2) as [string, string, string, string];
const budget = holdMemoryBudget(Number(budgetMb) * 2 ** 20);
const { redis, opensearchUrl } = workerServers();
const opensearch = new Client({ node: opensearchUrl });
await redis.connect();
const deps = {
  store: createAccountStore(redis, { namespace, generation }),
  opensearch,
  index: usersIndex(namespace, generation),
  factsIndex: factsIndex(namespace, generation),
  windowMs: DEFAULT_DEDUPE_WINDOW_MS,
};
// The code paths compiled and the connections warm: a verification of an account that does not exist.
await verifyAccount(deps, `${accountId}-absent`);
const before = processMemory('self').rss;
// The peak starts again from here.
resetPeakRss();
const started = performance.now();
const report = await verifyAccount(deps, accountId);
const ms = performance.now() - started;
const peak = processMemory('self').peakRss;
budget.release();
redis.disconnect();
await opensearch.close();
process.stdout.write(`${JSON.stringify({ before, peak, ms, users: report.users, differences: report.differences })}\n`);
