/**
 * verify: recompute every document and counter of an account from its facts in Redis (the pure
 * core), and compare with what OpenSearch and the counters hold. Any difference is a bug or an
 * unfinished write; the list says which user or counter, and how.
 */
import type { Client } from '@opensearch-project/opensearch';
import { countersFromDocs, deriveUser, eachDoc, loadFacts } from '../projections/index.ts';
import { FACT_SORT, scanRecords } from './opensearch/fact-store.ts';
import { OPEN_END } from './records/fact-intervals.ts';
import { readAccountUsers } from './opensearch/read-users.ts';
import { toIndexedUser } from './opensearch/user-document.ts';
import type { AccountStatePort } from './ports/account-state.ts';

export interface VerifyDeps {
  store: AccountStatePort;
  opensearch: Client;
  index: string;
  windowMs: number;
  /** the generation's facts index: when given, the open fact intervals (what as_of reads) are checked too */
  factsIndex?: string;
}

/** The account's open fact intervals in the index: key -> value. */
async function openFactIntervals(opensearch: Client, index: string, accountId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const query = { bool: { filter: [{ term: { account_id: accountId } }, { term: { to_ms: OPEN_END } }] } };
  for await (const r of scanRecords(opensearch, { index }, { query, sort: FACT_SORT, pageSize: 5000 })) out.set(r.fact_key, r.value);
  return out;
}

export interface AccountReport {
  accountId: string;
  users: number;
  counters: number;
  differences: string[];
}

function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) === !Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      if (d) return d;
    }
  }
  return `${path || '.'}: expected ${JSON.stringify(a)?.slice(0, 200)}, found ${JSON.stringify(b)?.slice(0, 200)}`;
}

/**
 * Compares one account; `differences` is empty when the index and counters equal a clean replay.
 * Each user's document is derived when compared, never all of an account's at once: the largest
 * account has tens of thousands of users, and the rebuild verifies beside a running projector.
 */
export async function verifyAccount(deps: VerifyDeps, accountId: string): Promise<AccountReport> {
  const loaded = await deps.store.load(accountId, deps.windowMs);
  const facts = loaded.state.facts;
  const differences: string[] = [];
  if (loaded.dirty.size > 0) differences.push(`outbox: ${loaded.dirty.size} documents not confirmed written (projector busy or interrupted)`);

  const seen = new Set<string>();
  for await (const indexed of readAccountUsers(deps.opensearch, deps.index, accountId)) {
    seen.add(indexed.user_id);
    const doc = deriveUser(facts, indexed.user_id);
    if (!doc) {
      differences.push(`user ${indexed.user_id}: in the index but not in the facts (deleted or unknown user)`);
      continue;
    }
    const d = firstDifference(toIndexedUser(accountId, doc), indexed);
    if (d) differences.push(`user ${indexed.user_id}: ${d}`);
  }
  const users = [...facts.users.keys()].sort();
  for (const userId of users) if (!seen.has(userId)) differences.push(`user ${userId}: missing from the index`);
  seen.clear();

  // The raw facts (each topic's own assertions) must describe the same report as the facts, and
  // the open fact intervals in the index must be exactly the raw facts: that is what as_of reads.
  const fromRaw = loadFacts(loaded.raw.values);
  for (const userId of new Set([...users, ...fromRaw.users.keys()]))
    if (JSON.stringify(deriveUser(facts, userId)) !== JSON.stringify(deriveUser(fromRaw, userId)))
      differences.push(`user ${userId}: the raw facts give another document than the facts`);
  if (deps.factsIndex) {
    const open = await openFactIntervals(deps.opensearch, deps.factsIndex, accountId);
    for (const key of new Set([...open.keys(), ...loaded.raw.values.keys()]))
      if (open.get(key) !== loaded.raw.values.get(key))
        differences.push(`fact ${JSON.stringify(key)}: open interval ${JSON.stringify(open.get(key) ?? null)}, raw fact ${JSON.stringify(loaded.raw.values.get(key) ?? null)}`);
  }

  const expected = countersFromDocs(eachDoc(facts));
  const actual = await deps.store.counters(accountId);
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(key) ?? 0;
    const a = actual.get(key) ?? 0;
    if (e !== a) differences.push(`counter ${key}: expected ${e}, found ${a}`);
  }
  return { accountId, users: users.length, counters: expected.size, differences };
}

/** Verifies every account of the generation. */
export async function verifyAll(deps: VerifyDeps, onAccount?: (report: AccountReport) => void): Promise<AccountReport[]> {
  const reports: AccountReport[] = [];
  for (const accountId of await deps.store.accounts()) {
    const report = await verifyAccount(deps, accountId);
    onAccount?.(report);
    reports.push(report);
  }
  return reports;
}
