/**
 * given/when/then for the access rules: `given(history).when(event)` replays the history, applies
 * the event, and exposes what a user of the report would see before and after.
 */
import { type AccessType, type Channel, DEFAULT_DEDUPE_WINDOW_MS, type FactEvent, type UserDoc, allDocs, replay, step, summarize } from '../../projections/index.ts';

/** A compact view of a user's entries: `type:target <- rule@queue/member`. */
export function entryLines(doc: UserDoc | null | undefined): string[] {
  if (!doc) return [];
  return doc.entries.map((e) => `${e.access_type}:${e.target.id} <- ${e.granted_by.map((p) => `${p.rule}${p.queue_id ? `@${p.queue_id}/${p.member_type}` : ''}`).join(', ')}`);
}

export function given(...history: FactEvent[]) {
  const state = replay(history, DEFAULT_DEDUPE_WINDOW_MS);
  const view = () => {
    const docs = allDocs(state.facts);
    return {
      docs,
      entries: (userId: string) => entryLines(docs.get(userId)),
      types: (userId: string): AccessType[] => [...new Set(docs.get(userId)?.entries.map((e) => e.access_type))].sort(),
      summary: (channel?: Channel) => summarize(docs.values(), channel),
    };
  };
  const before = view();
  return {
    before,
    when(...events: FactEvent[]) {
      const affected = new Set<string>();
      for (const e of events) {
        const r = step(state, e, DEFAULT_DEDUPE_WINDOW_MS);
        if (!r.duplicate) for (const u of r.affected) affected.add(u);
      }
      return { before, after: view(), affected };
    },
  };
}
