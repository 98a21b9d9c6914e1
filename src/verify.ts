/**
 * verify: recompute every document and counter of an account from its facts in Redis (the pure
 * core), and compare with what OpenSearch and the counters hold. Any difference is a bug or an
 * unfinished write; the list says which user or counter, and how.
 */
import type { Client } from '@opensearch-project/opensearch';
import { countersFromDocs, deriveUser, eachDoc, loadFacts } from '../projections/index.ts';
import { FACT_SORT, scanRecords } from './opensearch/fact-store.ts';
import { OPEN_END, factRecordId } from './records/fact-intervals.ts';
import { readAccountUsers } from './opensearch/read-users.ts';
import { storedForm, toIndexedUser } from './opensearch/user-document.ts';
import type { AccountFactsRead, AccountStatePort } from './ports/account-state.ts';

export interface VerifyDeps {
  store: AccountStatePort;
  opensearch: Client;
  index: string;
  windowMs: number;
  /** the generation's facts index: when given, the open fact intervals (what as_of reads) are checked too */
  factsIndex?: string;
}

/** The account's open fact intervals in the index (an earlier release wrote them): key -> value. */
async function openFactIntervals(opensearch: Client, index: string, accountId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const query = { bool: { filter: [{ term: { account_id: accountId } }, { term: { to_ms: OPEN_END } }] } };
  for await (const r of scanRecords(opensearch, { index }, { query, sort: FACT_SORT, pageSize: 5000 })) out.set(r.fact_key, r.value);
  return out;
}

/** Record ids per request when looking for closed records of open intervals. */
const IDS_PER_QUERY = 5_000;

/** Of the given interval ids, those the index holds as closed, with the `seq` of their opening event. */
async function closedInIndex(opensearch: Client, index: string, ids: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const batch = ids.slice(i, i + IDS_PER_QUERY);
    const query = { bool: { filter: [{ ids: { values: batch } }, { range: { to_ms: { lt: OPEN_END } } }] } };
    const { body } = await opensearch.search({ index, body: { size: batch.length, query, _source: ['from.seq'], track_total_hits: false } });
    for (const hit of (body as { hits: { hits: { _id: string; _source: { from: { seq: number } } }[] } }).hits.hits) out.set(hit._id, hit._source.from.seq);
  }
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

/** The account's facts, read in pieces; read whole when it committed meanwhile (a torn read). */
async function readAccountFacts(deps: VerifyDeps, accountId: string): Promise<AccountFactsRead> {
  const read = await deps.store.readFacts(accountId);
  if (read) return read;
  const loaded = await deps.store.load(accountId, deps.windowMs);
  return { facts: loaded.state.facts, raw: loaded.raw, version: loaded.version, dirtyUsers: loaded.dirty.size };
}

/**
 * Compares one account; `differences` is empty when the index and counters equal a clean replay.
 * Each user's document is derived when compared, never all of an account's at once: the largest
 * account has tens of thousands of users, and the rebuild verifies beside a running projector.
 */
export async function verifyAccount(deps: VerifyDeps, accountId: string): Promise<AccountReport> {
  const loaded = await readAccountFacts(deps, accountId);
  const facts = loaded.facts;
  const differences: string[] = [];
  if (loaded.dirtyUsers > 0) differences.push(`outbox: ${loaded.dirtyUsers} documents not confirmed written (projector busy or interrupted)`);

  const seen = new Set<string>();
  for await (const indexed of readAccountUsers(deps.opensearch, deps.index, accountId)) {
    seen.add(indexed.user_id);
    const doc = deriveUser(facts, indexed.user_id);
    if (!doc) {
      differences.push(`user ${indexed.user_id}: in the index but not in the facts (deleted or unknown user)`);
      continue;
    }
    // Compared as stored now: a document written before decision 64 still carries names, which no reader takes from it while the facts name them.
    const d = firstDifference(toIndexedUser(accountId, doc), storedForm(indexed));
    if (d) differences.push(`user ${indexed.user_id}: ${d}`);
  }
  const users = [...facts.users.keys()].sort();
  for (const userId of users) if (!seen.has(userId)) differences.push(`user ${userId}: missing from the index`);
  seen.clear();

  // The raw facts (each topic's own assertions) must describe the same report as the facts: they
  // are the open intervals as_of and the history read.
  const fromRaw = loadFacts(loaded.raw.values);
  for (const userId of new Set([...users, ...fromRaw.users.keys()]))
    if (JSON.stringify(deriveUser(facts, userId)) !== JSON.stringify(deriveUser(fromRaw, userId)))
      differences.push(`user ${userId}: the raw facts give another document than the facts`);
  if (deps.factsIndex) {
    // The open intervals are the raw facts (decision 47): an open record the index still holds must
    // say the same, and no closed record may end an interval Redis holds open.
    const open = await openFactIntervals(deps.opensearch, deps.factsIndex, accountId);
    for (const [key, value] of open)
      if (loaded.raw.values.get(key) !== value)
        differences.push(`fact ${JSON.stringify(key)}: open interval ${JSON.stringify(value)} in the index, raw fact ${JSON.stringify(loaded.raw.values.get(key) ?? null)}`);
    const ids = new Map([...loaded.raw.opened].map(([key, from]) => [factRecordId(accountId, key, from), { key, seq: from.seq }]));
    // A closed record of an earlier application of the same event (applied again past the dedupe
    // window) shares the id: only one of this very application is wrong.
    for (const [id, seq] of await closedInIndex(deps.opensearch, deps.factsIndex, [...ids.keys()]))
      if (ids.get(id)!.seq === seq) differences.push(`fact ${JSON.stringify(ids.get(id)!.key)}: open in Redis, closed in the index`);
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
