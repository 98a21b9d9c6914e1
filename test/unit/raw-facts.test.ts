import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEDUPE_WINDOW_MS, type RawFacts, allDocs, applyRaw, loadFacts, replay } from '../../projections/index.ts';
import { byTopic, historyArb, interleave } from '../support/arbitraries.ts';

interface Interval {
  key: string;
  value: string;
  from: number;
  to: number;
}

/** Applies events in the given (processing) order and keeps each raw key's intervals in event time. */
function rawIntervals(events: readonly { timeMs: number }[] & readonly Parameters<typeof applyRaw>[1][]): Interval[] {
  const raw: RawFacts = new Map();
  const open = new Map<string, Interval>();
  const done: Interval[] = [];
  for (const e of events)
    for (const c of applyRaw(raw, e)) {
      const prev = open.get(c.key);
      if (prev) {
        prev.to = e.timeMs;
        done.push(prev);
        open.delete(c.key);
      }
      if (c.value !== null) open.set(c.key, { key: c.key, value: c.value, from: e.timeMs, to: Number.MAX_SAFE_INTEGER });
    }
  return [...done, ...open.values()];
}

const docsAt = (intervals: readonly Interval[], t: number) => [
  ...allDocs(loadFacts(intervals.filter((i) => i.from <= t && t < i.to).map((i) => [i.key, i.value] as const))).values(),
];

describe('raw facts: the report at any instant, whatever order the topics were applied in', () => {
  it('facts valid at T give the documents of the events up to T, for any interleaving of the topics', () => {
    fc.assert(
      fc.property(
        historyArb,
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 60, size: 'max' }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        (history, choices, picks) => {
          for (const account of new Set(history.map((r) => r.account))) {
            const mine = history.filter((r) => r.account === account);
            const processed = interleave(byTopic(mine), choices).map((r) => r.event);
            const intervals = rawIntervals(processed);
            const times = mine.map((r) => r.event.timeMs);
            const instants = [times[0]! - 1, times[times.length - 1]! + 1, ...picks.map((p) => times[p % times.length]!), ...picks.map((p) => times[p % times.length]! + 30_000)];
            for (const t of instants) {
              const expected = [
                ...allDocs(
                  replay(
                    mine.filter((r) => r.event.timeMs <= t).map((r) => r.event),
                    DEFAULT_DEDUPE_WINDOW_MS,
                  ).facts,
                ).values(),
              ];
              expect(docsAt(intervals, t), `${account} at ${t}`).toEqual(expected);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
