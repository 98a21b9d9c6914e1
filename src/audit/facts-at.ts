/**
 * The report's documents at an instant T from the fact intervals (`<namespace>-facts-<generation>`):
 * every raw fact of the account valid at T (`from_ms <= T < to_ms`), read as facts, through the
 * core's derivation. Raw facts change only with their own topic's events, so this is exactly the
 * report of the events up to T, however the topics were interleaved when they were applied
 * (projections/raw-facts.ts, test/unit/raw-facts.test.ts).
 */
import type { Client } from '@opensearch-project/opensearch';
import { type AccountFacts, type UserDoc, deriveUser, loadFacts } from '../../projections/index.ts';
import type { FactIntervalRecord } from '../records/fact-intervals.ts';
import { FACT_SORT, type RecordSource, scanRecords } from '../opensearch/fact-store.ts';

/** The account's fact intervals valid at `asOfMs`. */
export function factsValidAt(opensearch: Client, source: RecordSource, accountId: string, asOfMs: number): AsyncGenerator<FactIntervalRecord> {
  const query = { bool: { filter: [{ term: { account_id: accountId } }, { range: { from_ms: { lte: asOfMs } } }, { range: { to_ms: { gt: asOfMs } } }] } };
  return scanRecords(opensearch, source, { query, sort: FACT_SORT });
}

/**
 * The documents at T of the given users (all users when `userIds` is absent), in user-id order.
 * Memory: the account's facts at T (about what the projector holds for it).
 */
export async function* docsFromFacts(records: AsyncIterable<FactIntervalRecord>, userIds?: readonly string[]): AsyncGenerator<UserDoc> {
  yield* docsOfFacts(await factsAt(records), userIds);
}

/** The facts the intervals describe. */
export async function factsAt(records: AsyncIterable<FactIntervalRecord>): Promise<AccountFacts> {
  const flat: [string, string][] = [];
  // Two intervals of one key can both hold only if event times ran backwards within a topic; the
  // later one read (by opening order) wins, as the later event did.
  const seen = new Map<string, number>();
  for await (const r of records) {
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
