/**
 * The report's documents at an instant T from the fact intervals (Redis and `<namespace>-facts-<generation>`):
 * every raw fact of the account valid at T (`from_ms <= T < to_ms`), read as facts, through the
 * core's derivation. Raw facts change only with their own topic's events, so this is exactly the
 * report of the events up to T, however the topics were interleaved when they were applied
 * (projections/raw-facts.ts, test/unit/raw-facts.test.ts).
 */
import type { Client } from '@opensearch-project/opensearch';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type AccountFacts, type UserDoc, deriveUser, loadFacts } from '../../projections/index.ts';
import { type AccountHead, type FactIntervalRecord, type IntervalSnapshot, mergeIntervals, seqLimit } from '../records/fact-intervals.ts';
import { FACT_SORT, scanRecords } from '../opensearch/fact-store.ts';

/**
 * Where an account's fact intervals are read (decision 47): Redis first (the open intervals, which
 * are the raw facts, and the closed ones no refresh has shown yet), then the generation's facts
 * index (the closed ones). Redis is read before the index: whatever leaves the outbox meanwhile
 * was shown by a refresh before it left.
 */
export interface IntervalSources {
  opensearch: Client;
  /** the generation's facts index */
  index: string;
  /** every interval of the account Redis holds, with its version */
  account: (accountId: string) => Promise<IntervalSnapshot>;
  /** the account's version, epoch and applied offsets only */
  head: (accountId: string) => Promise<AccountHead>;
  /** the intervals Redis holds of some of the account's subjects, with its version */
  subjects: (accountId: string, subjects: readonly string[]) => Promise<IntervalSnapshot>;
}

/**
 * The account's intervals valid at `asOfMs` as of `version` (at most the snapshot's, read before
 * this): records opened by a later commit are left out, those closed by one count as open.
 */
export async function validAtVersion(sources: IntervalSources, accountId: string, asOfMs: number, snapshot: IntervalSnapshot, version: number): Promise<FactIntervalRecord[]> {
  const limit = seqLimit(version);
  const query = {
    bool: {
      filter: [{ term: { account_id: accountId } }, { range: { from_ms: { lte: asOfMs } } }, { range: { 'from.seq': { lt: limit } } }],
      should: [{ range: { to_ms: { gt: asOfMs } } }, { range: { 'to.seq': { gte: limit } } }],
      minimum_should_match: 1,
    },
  };
  const indexed: FactIntervalRecord[] = [];
  for await (const r of scanRecords(sources.opensearch, { index: sources.index }, { query, sort: FACT_SORT })) indexed.push(r);
  return mergeIntervals(version, indexed, snapshot).filter((r) => r.from_ms <= asOfMs && asOfMs < r.to_ms);
}

/**
 * The documents at T of the given users (all users when `userIds` is absent), in user-id order.
 * Memory: the account's facts at T (about what the projector holds for it).
 */
export function docsFromFacts(records: Iterable<FactIntervalRecord>, userIds?: readonly string[]): Generator<UserDoc> {
  return docsOfFacts(factsAt(records), userIds);
}

/** The facts the intervals describe. */
export function factsAt(records: Iterable<FactIntervalRecord>): AccountFacts {
  const flat: [string, string][] = [];
  // Two intervals of one key can both hold only if event times ran backwards within a topic; the
  // later one read (by opening order) wins, as the later event did.
  const seen = new Map<string, number>();
  for (const r of records) {
    const at = seen.get(r.fact_key);
    if (at !== undefined) flat[at] = [r.fact_key, r.value];
    else {
      seen.set(r.fact_key, flat.length);
      flat.push([r.fact_key, r.value]);
    }
  }
  return loadFacts(flat);
}

/** The documents of the given users (all when absent), in user-id order. */
export function* docsOfFacts(facts: AccountFacts, userIds?: readonly string[]): Generator<UserDoc> {
  const ids = userIds ? [...new Set(userIds)] : [...facts.users.keys()];
  for (const userId of ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const doc = deriveUser(facts, userId);
    if (doc) yield doc;
  }
}

/**
 * Documents derived between two turns of the event loop (`paced`): a few ms here. An `as_of`
 * answer on the 50,000-agent account derives its 51,047 documents at T in about 8 s of CPU; in
 * one loop the API answered nothing else meanwhile (docs/benchmarks-journal.md, part 2).
 */
export const DOCS_PER_TURN = 200;

/**
 * The items of a synchronous iterable (documents being derived), letting the event loop turn
 * (timers, sockets: the API's other requests) every `perTurn` items. A `for await` over the
 * iterable itself would not: it only waits for microtasks.
 */
export async function* paced<T>(items: Iterable<T>, perTurn = DOCS_PER_TURN): AsyncGenerator<T> {
  let n = 0;
  for (const item of items) {
    yield item;
    if (++n % perTurn === 0) await nextTurn();
  }
}
