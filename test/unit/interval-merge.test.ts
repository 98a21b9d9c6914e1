/**
 * Decision 47: an interval is written to the index once, when it closes; the open ones are the raw
 * facts in Redis, and a closed one stays in Redis's outbox until a refresh shows it. A reader takes
 * Redis's snapshot first, then the index (which may have moved on since), and cuts at a version:
 * whatever the timing of commits, writes and refreshes around the read, the merge must give exactly
 * the intervals of that version (every commit planned by the projector's own planBatch).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FactEvent } from '../../projections/index.ts';
import { type EventRef, type FactIntervalRecord, OPEN_END, factRecordId, mergeIntervals, seqLimit } from '../../src/records/fact-intervals.ts';
import { byTopic, historyArb, interleave } from '../support/arbitraries.ts';
import { commitEach } from './audit-simulate.ts';

const ACCOUNT = 'acc';

interface Commits {
  /** per version v (1-based), the records commit v closed */
  closed: FactIntervalRecord[][];
  /** per version v (0-based: before any commit), the open intervals after it */
  open: FactIntervalRecord[][];
}

/** One commit per event, as planned by the projector (audit-simulate.ts), indexed by version. */
function commitsOf(events: readonly FactEvent[]): Commits {
  const commits = commitEach(ACCOUNT, events);
  return { closed: [[], ...commits.map((c) => c.closed)], open: [[], ...commits.map((c) => c.open)] };
}

const idOf = (r: FactIntervalRecord) => factRecordId(r.account_id, r.fact_key, r.from);
const sorted = (records: Iterable<FactIntervalRecord>) => [...records].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));

/** The intervals of version v as a clean run leaves them: every record closed up to v, and the ones open at v. */
function truth(commits: Commits, v: number): FactIntervalRecord[] {
  return sorted([...commits.closed.slice(1, v + 1).flat(), ...commits.open[v]!]);
}

/** The as_of query on the index (src/audit/facts-at.ts validAtVersion), as a predicate. */
function asOfQuery(r: FactIntervalRecord, t: number, limit: number): boolean {
  return r.from_ms <= t && r.from.seq < limit && (r.to_ms > t || (r.to !== null && r.to.seq >= limit));
}

const scheduleArb = fc.record({ c1: fc.nat(), r1: fc.nat(), v: fc.nat(), c2: fc.nat(), r2: fc.nat(), t: fc.nat() });

describe('intervals from Redis and the index (decision 47)', () => {
  it('a snapshot (open intervals, unrefreshed outbox), then an index that moved on: the cut at any version up to the snapshot’s is exactly that version’s intervals', () => {
    fc.assert(
      fc.property(historyArb, fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 40 }), scheduleArb, (history, choices, s) => {
        const mine = history.filter((r) => r.account === history[0]!.account);
        const commits = commitsOf(interleave(byTopic(mine), choices).map((r) => r.event));
        const n = commits.closed.length - 1;
        // Redis's snapshot at commit c1, its outbox holding what was closed after the last refresh
        // cleared it (r1); the cut at v <= c1 (a later page of a listing); the index read later, at
        // commit c2 >= c1, showing what was refreshed by then (r2 >= r1).
        const c1 = s.c1 % (n + 1);
        const r1 = s.r1 % (c1 + 1);
        const v = s.v % (c1 + 1);
        const c2 = c1 + (s.c2 % (n - c1 + 1));
        const r2 = r1 + (s.r2 % (c2 - r1 + 1));
        const snapshot = { open: commits.open[c1]!, closed: commits.closed.slice(r1 + 1, c1 + 1).flat() };
        const index = commits.closed.slice(1, r2 + 1).flat();
        expect(sorted(mergeIntervals(v, index, snapshot))).toEqual(truth(commits, v));

        // as_of T: the index answers its query only; what is valid at T must still be exact.
        const times = mine.map((r) => r.event.timeMs);
        const t = times.length === 0 ? 0 : times[s.t % times.length]! + (s.t % 3) - 1;
        const valid = (records: FactIntervalRecord[]) => sorted(records.filter((r) => r.from_ms <= t && t < r.to_ms));
        const answered = index.filter((r) => asOfQuery(r, t, seqLimit(v)));
        expect(valid(mergeIntervals(v, answered, snapshot))).toEqual(valid(truth(commits, v)));
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('an open record an earlier release wrote to the index gives way to the closed one; records past the cut are open again or left out', () => {
    const ref = (seq: number, time: number): EventRef => ({
      event_id: `e${seq}`,
      type: 'user.upserted',
      topic: 't',
      partition: 0,
      offset: String(seq),
      time: '',
      time_ms: time,
      seq,
    });
    const record = (from: EventRef, to: EventRef | null, value: string): FactIntervalRecord => ({
      account_id: ACCOUNT,
      fact_key: 'u\u001fu1',
      subject: 'u\u001fu1',
      value,
      from_ms: from.time_ms,
      to_ms: to ? to.time_ms : OPEN_END,
      from,
      to,
    });
    const [a, b, c] = [ref(1_000_000, 10), ref(2_000_000, 20), ref(3_000_000, 30)];
    const legacyOpen = record(a, null, 'Ana');
    const closed = record(a, b, 'Ana');
    const second = record(b, c, 'Bo');
    const third = record(c, null, 'Cy');
    const snapshot = { open: [third], closed: [] };
    expect(mergeIntervals(3, [legacyOpen, closed, second], snapshot)).toEqual([closed, second, third]);
    expect(mergeIntervals(2, [legacyOpen, closed, second], snapshot)).toEqual([closed, { ...second, to: null, to_ms: OPEN_END }]);
    expect(mergeIntervals(0, [legacyOpen, closed, second], snapshot)).toEqual([]);
    // A copy of the first event applied again past the dedupe window (at seq 4e6) reopens its id:
    // the later application is the current value, not the old closed record.
    const again = record({ ...a, seq: 4_000_000, time_ms: 40 }, null, 'Ana');
    expect(mergeIntervals(4, [closed, second], { open: [again], closed: [record(c, { ...a, seq: 4_000_000, time_ms: 40 }, 'Cy')] })).toEqual([
      second,
      record(c, { ...a, seq: 4_000_000, time_ms: 40 }, 'Cy'),
      again,
    ]);
  });
});
