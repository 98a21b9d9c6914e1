/**
 * The remembered event ids of an account: a prune forgets exactly the ids older than the horizon,
 * whether it walks them or knows there is nothing to forget (`oldestMs`), for ids remembered in any
 * order of log time, and for a set read back from a store (no `oldestMs` yet).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SeenIds, dedupeHorizon, emptySeen, isDuplicate, pruneSeen, remember } from '../../projections/dedupe.ts';

// Small times, so that ids often sit exactly at the horizon.
const WINDOW_MS = 5;

/** What a prune must do: forget every id first applied before the horizon, nothing else. */
function pruneReference(ids: Map<string, number>, newestMs: number): string[] {
  const horizon = newestMs - 2 * WINDOW_MS;
  const pruned = [...ids].filter(([, at]) => at < horizon).map(([id]) => id);
  for (const id of pruned) ids.delete(id);
  return pruned;
}

type Step = { kind: 'remember'; id: number; logMs: number } | { kind: 'prune' } | { kind: 'reload' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('remember' as const), id: fc.nat(40), logMs: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('prune' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reload' as const) }) },
);

describe('pruneSeen', () => {
  it('forgets exactly the ids older than the horizon, after any order of remembers, prunes and reloads', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 120 }), (steps) => {
        let seen: SeenIds = emptySeen();
        const model = new Map<string, number>();
        for (const step of steps) {
          if (step.kind === 'remember') {
            remember(seen, `e${step.id}`, step.logMs);
            model.set(`e${step.id}`, step.logMs);
          } else if (step.kind === 'prune') {
            const pruned = pruneSeen(seen, WINDOW_MS);
            expect(new Set(pruned)).toEqual(new Set(pruneReference(model, seen.newestMs)));
            expect(seen.ids).toEqual(model);
          } else {
            // Read back from a store: the same ids, no lower bound known.
            seen = { ids: new Map(seen.ids), newestMs: seen.newestMs };
          }
        }
        pruneSeen(seen, WINDOW_MS);
        pruneReference(model, seen.newestMs);
        expect(seen.ids).toEqual(model);
      }),
      { numRuns: 1_000 },
    );
  });

  it('an id remembered late with an old log time is forgotten by the next prune that passes it', () => {
    const seen = emptySeen();
    remember(seen, 'new', 100);
    expect(pruneSeen(seen, WINDOW_MS)).toEqual([]);
    // A copy read late from a lagging topic: older than the horizon already.
    remember(seen, 'late', 50);
    expect(isDuplicate(seen, 'late', 55, WINDOW_MS)).toBe(true);
    expect(dedupeHorizon(seen, WINDOW_MS)).toBe(90);
    expect(pruneSeen(seen, WINDOW_MS)).toEqual(['late']);
    expect([...seen.ids.keys()]).toEqual(['new']);
  });
});
