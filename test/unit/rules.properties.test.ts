import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccountState,
  CHANNEL_SCOPES,
  CHANNELS,
  channelView,
  DEFAULT_DEDUPE_WINDOW_MS,
  type UserDoc,
  allDocs,
  contributions,
  countersFromDocs,
  counterDeltas,
  deriveUser,
  emptyAccount,
  filterEntries,
  step,
} from '../../projections/index.ts';
import { type Routed, TOPICS, byTopic, historyArb, interleave } from '../support/arbitraries.ts';

const W = DEFAULT_DEDUPE_WINDOW_MS;

/** The projector's loop in miniature: facts, docs rewritten for affected users, counters by deltas. */
function createModel() {
  const accounts = new Map<string, { state: AccountState; docs: Map<string, UserDoc>; counters: Map<string, number> }>();
  const account = (id: string) => {
    let a = accounts.get(id);
    if (!a) accounts.set(id, (a = { state: emptyAccount(), docs: new Map(), counters: new Map() }));
    return a;
  };
  return {
    accounts,
    apply(r: Routed, check?: (before: Map<string, UserDoc>, after: Map<string, UserDoc>, affected: Set<string>) => void) {
      const a = account(r.account);
      const before = check ? allDocs(a.state.facts) : undefined;
      const result = step(a.state, r.event, W);
      if (result.duplicate) return;
      if (check && before) check(before, allDocs(a.state.facts), result.affected);
      for (const userId of result.affected) {
        const old = a.docs.get(userId) ?? null;
        const now = deriveUser(a.state.facts, userId);
        for (const [k, n] of counterDeltas(old, now)) {
          const v = (a.counters.get(k) ?? 0) + n;
          if (v === 0) a.counters.delete(k);
          else a.counters.set(k, v);
        }
        if (now) a.docs.set(userId, now);
        else a.docs.delete(userId);
      }
    },
    /** Per account: documents and counters, in a comparable form. */
    snapshot() {
      const out: Record<string, { docs: UserDoc[]; counters: Record<string, number> }> = {};
      for (const [id, a] of [...accounts].sort(([x], [y]) => (x < y ? -1 : 1)))
        out[id] = { docs: [...allDocs(a.state.facts).values()], counters: Object.fromEntries([...a.counters].sort()) };
      return out;
    },
  };
}

function run(events: readonly Routed[]) {
  const model = createModel();
  for (const r of events) model.apply(r);
  return model.snapshot();
}

const choicesArb = fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 60, size: 'max' });

describe('the rules under any delivery', () => {
  it('(a) any interleaving of the four topics that keeps each topic’s order gives the ordered replay’s documents and summary', () => {
    fc.assert(
      fc.property(historyArb, choicesArb, (history, choices) => {
        expect(run(interleave(byTopic(history), choices))).toEqual(run(history));
      }),
      { numRuns: 400 },
    );
  });

  it('(b) redelivering any stretch of any topic, at any later point, changes nothing', () => {
    fc.assert(
      fc.property(historyArb, choicesArb, fc.constantFrom(...TOPICS), fc.nat(), fc.nat(), fc.nat(), (history, choices, topic, a, b, at) => {
        const merged = interleave(byTopic(history), choices);
        const ofTopic = merged.filter((r) => r.topic === topic);
        if (ofTopic.length === 0) return;
        const from = a % ofTopic.length;
        const to = from + (b % (ofTopic.length - from));
        const stretch = ofTopic.slice(from, to + 1);
        const lastPos = merged.indexOf(stretch[stretch.length - 1]!);
        const insertAt = lastPos + 1 + (at % (merged.length - lastPos));
        const redelivered = [...merged.slice(0, insertAt), ...stretch, ...merged.slice(insertAt)];
        expect(run(redelivered)).toEqual(run(merged));
      }),
      { numRuns: 400 },
    );
  });

  it('(c) the summary counters kept by deltas equal the counters recomputed from all documents', () => {
    fc.assert(
      fc.property(historyArb, choicesArb, (history, choices) => {
        const model = createModel();
        for (const r of interleave(byTopic(history), choices)) model.apply(r);
        for (const a of model.accounts.values())
          expect(Object.fromEntries([...a.counters].sort())).toEqual(Object.fromEntries([...countersFromDocs(allDocs(a.state.facts).values())].sort()));
      }),
      { numRuns: 400 },
    );
  });

  it('(d) affectedUsers never misses a user whose document changed', () => {
    fc.assert(
      fc.property(historyArb, choicesArb, (history, choices) => {
        const model = createModel();
        for (const r of interleave(byTopic(history), choices))
          model.apply(r, (before, after, affected) => {
            for (const userId of new Set([...before.keys(), ...after.keys()]))
              if (!affected.has(userId)) expect(after.get(userId), `${r.event.type} missed ${userId}`).toEqual(before.get(userId));
          });
      }),
      { numRuns: 400 },
    );
  });
  it('(e) a document counts, in each channel scope, exactly the entries the report filters give for it', () => {
    /** The counter keys as the report reads them: the entries filterEntries gives per scope. */
    const keysOfReport = (doc: UserDoc): Set<string> => {
      const keys = new Set<string>();
      for (const scope of CHANNEL_SCOPES) {
        const entries = filterEntries(doc.entries, scope === 'all' ? {} : { channel: scope });
        if (entries.length > 0) keys.add(`u|${scope}|total`);
        for (const e of entries) {
          keys.add(`u|${scope}|${e.access_type}`);
          for (const q of e.queues) keys.add(`q|${scope}|${e.access_type}|${q.id}`);
          if (e.target.type === 'queue') keys.add(`q|${scope}|${e.access_type}|${e.target.id}`);
          if (e.access_type === 'inbox') keys.add(`i|${scope}|${e.target.id}`);
        }
      }
      return keys;
    };
    fc.assert(
      fc.property(historyArb, (history) => {
        const model = createModel();
        for (const r of history) model.apply(r);
        for (const a of model.accounts.values()) for (const doc of allDocs(a.state.facts).values()) expect([...contributions(doc)].sort()).toEqual([...keysOfReport(doc)].sort());
      }),
      { numRuns: 300 },
    );
  });
  it('(f) a channel view holds the entries the channel filter gives, with their targets and queues', () => {
    const shape = (e: { access_type: string; target: { type: string; id: string }; queues: readonly { id: string }[] }) => ({
      access_type: e.access_type,
      target: `${e.target.type}:${e.target.id}`,
      queues: e.queues.map((q) => q.id).sort(),
    });
    fc.assert(
      fc.property(historyArb, (history) => {
        const model = createModel();
        for (const r of history) model.apply(r);
        for (const a of model.accounts.values())
          for (const doc of allDocs(a.state.facts).values())
            for (const channel of CHANNELS) expect(channelView(doc.entries, channel).map(shape)).toEqual(filterEntries(doc.entries, { channel }).map(shape));
      }),
      { numRuns: 300 },
    );
  });
});
