/**
 * planBatch's work budget: a batch planned in several bounded commits must persist exactly what one
 * commit of the whole batch persists (documents, counters, fact intervals), and a
 * budget never stops a plan before its first event.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEDUPE_WINDOW_MS, emptyAccount } from '../../projections/index.ts';
import { type IndexedUser, toIndexedUser } from '../../src/opensearch/user-document.ts';
import { type FactIntervalRecord, emptyRaw, factRecordId, openRecord } from '../../src/records/fact-intervals.ts';
import { type PositionedEvent, planBatch } from '../../src/projector/plan-batch.ts';
import { historyArb } from '../support/arbitraries.ts';

const W = DEFAULT_DEDUPE_WINDOW_MS;
const SOURCE = { accountId: 'acc', topic: 'zcc.all', partition: 0 };

/** What the commits of a batch leave behind, merged as Redis and OpenSearch would hold it. */
function planInCommits(events: readonly PositionedEvent[], maxWork: number) {
  const state = emptyAccount();
  const raw = emptyRaw();
  // As the index holds them: without names (decision 64).
  const docs = new Map<string, IndexedUser | null>();
  const counters = new Map<string, number>();
  const records = new Map<string, FactIntervalRecord>();
  let rest = events;
  let commits = 0;
  while (rest.length > 0) {
    commits += 1;
    const plan = planBatch(state, raw, { ...SOURCE, version: commits }, rest, W, maxWork);
    expect(plan.consumed).toBeGreaterThan(0);
    expect(plan.lastOffset).toBe(rest[plan.consumed - 1]!.offset);
    for (const [u, d] of plan.docs) docs.set(u, d && toIndexedUser(SOURCE.accountId, d));
    for (const [k, d] of plan.counterDeltas) counters.set(k, (counters.get(k) ?? 0) + d);
    for (const [id, r] of plan.intervals) records.set(id, structuredClone(r));
    rest = rest.slice(plan.consumed);
  }
  for (const [k, v] of counters) if (v === 0) counters.delete(k);
  // The open intervals are the raw facts (Redis): the record each will be once closed.
  for (const [key, f] of raw.opened) records.set(factRecordId(SOURCE.accountId, key, f), openRecord(SOURCE.accountId, key, { v: raw.values.get(key)!, f }));
  // The order of application (seq) numbers commits differently; everything else must be equal.
  const unordered = [...records].map(([id, r]): [string, unknown] => [id, JSON.parse(JSON.stringify(r, (k, v) => (k === 'seq' ? undefined : v)))]);
  return { docs, counters, records: new Map(unordered), commits, facts: [...state.facts.users.keys()].sort() };
}

const batchArb = historyArb.map((h) =>
  // Repeat some ids, so that duplicates fall inside and across commits.
  h.map((r, i): PositionedEvent => ({ event: { ...r.event, id: `e${i % 97 === 5 ? 0 : i}` }, offset: BigInt(i) })),
);

describe('planBatch work budget', () => {
  it('bounded commits persist what one commit of the whole batch persists', () => {
    fc.assert(
      fc.property(batchArb, fc.integer({ min: 1, max: 12 }), (events, budget) => {
        const whole = planInCommits(events, Number.POSITIVE_INFINITY);
        const split = planInCommits(events, budget);
        expect(whole.commits).toBe(1);
        // Documents written last per user: a user changed and changed back is not rewritten by the
        // whole plan, but may be by the split one; both end on the same document.
        for (const [u, d] of whole.docs) expect(split.docs.get(u), u).toEqual(d);
        for (const [u, d] of split.docs) if (!whole.docs.has(u)) expect(d === null || d.user_id === u).toBe(true);
        expect(split.counters).toEqual(whole.counters);
        expect(split.facts).toEqual(whole.facts);
        // Fact intervals: each event opens and closes them itself, so the pieces leave exactly what the whole does.
        expect(split.records).toEqual(whole.records);
      }),
      { numRuns: 150 },
    );
  });

  it('a budget smaller than one event still plans that event', () => {
    const events: PositionedEvent[] = [
      { event: { id: 'a', type: 'user.upserted', timeMs: 1, data: { user_id: 'u1', display_name: 'Ana', user_email: 'a@x.test', user_access: 'active' } }, offset: 7n },
      { event: { id: 'b', type: 'user.upserted', timeMs: 2, data: { user_id: 'u2', display_name: 'Bo', user_email: 'b@x.test', user_access: 'active' } }, offset: 8n },
    ];
    const state = emptyAccount();
    const plan = planBatch(state, emptyRaw(), { ...SOURCE, version: 1 }, events, W, 0);
    expect([plan.consumed, plan.lastOffset, [...plan.docs.keys()]]).toEqual([1, 7n, ['u1']]);
  });
});
