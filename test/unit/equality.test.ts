/**
 * The projector decides "did this user's document change?" with sameDoc/sameEntry and diffDocs.
 * They must agree with the plain definition (equal JSON) on every document the rules derive, or a
 * change would be lost (never written, never in the history) or an unchanged document rewritten.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Entry, type FactEvent, type UserDoc, affectedUsers, applyEvent, deriveUser, diffDocs, emptyAccount, sameDoc, sameEntry } from '../../projections/index.ts';
import { historyArb } from '../support/arbitraries.ts';

const json = (x: unknown) => JSON.stringify(x ?? null);

/** Every version of every user's document along one account's history, in order. */
function versions(events: readonly FactEvent[]): (UserDoc | null)[][] {
  const state = emptyAccount();
  const byUser = new Map<string, (UserDoc | null)[]>();
  for (const event of events) {
    const affected = affectedUsers(state.facts, event);
    applyEvent(state.facts, event);
    for (const u of affected) {
      const list = byUser.get(u) ?? [null];
      list.push(deriveUser(state.facts, u));
      byUser.set(u, list);
    }
  }
  return [...byUser.values()];
}

const oneAccount = historyArb.map((h) => h.map((r, i) => ({ ...r.event, id: `e${i}` })));

describe('document equality', () => {
  it('sameDoc, sameEntry and an empty diffDocs agree with JSON equality on derived documents', () => {
    fc.assert(
      fc.property(oneAccount, (events) => {
        // Bounded samples (pairs grow with the square): the versions of a few users, in order.
        const docs = versions(events).flat().slice(0, 60);
        const entries = docs.flatMap((d) => d?.entries ?? []).slice(0, 80);
        const docJson = docs.map(json);
        const entryJson = entries.map(json);
        // Every pair, not only consecutive versions: documents of different users must differ too.
        // The disagreements are collected, and asserted once (an expect per pair was most of the time).
        const disagreements: string[] = [];
        docs.forEach((a, i) =>
          docs.forEach((b, j) => {
            const equal = docJson[i] === docJson[j];
            if (sameDoc(a, b) !== equal) disagreements.push(`sameDoc ${docJson[i]} ${docJson[j]}`);
            if ((a?.user_id === b?.user_id || !a || !b) && (diffDocs(a, b).length === 0) !== equal) disagreements.push(`diffDocs ${docJson[i]} ${docJson[j]}`);
          }),
        );
        entries.forEach((a, i) =>
          entries.forEach((b, j) => {
            if (sameEntry(a, b) !== (entryJson[i] === entryJson[j])) disagreements.push(`sameEntry ${entryJson[i]} ${entryJson[j]}`);
          }),
        );
        expect(disagreements.slice(0, 3)).toEqual([]);
      }),
      { numRuns: 50 },
    );
  }, 60_000);

  it('any single field that differs makes entries and documents differ', () => {
    const entry: Entry = {
      access_type: 'inbox',
      target: { type: 'inbox', id: 'i1', name: 'Main' },
      queues: [{ id: 'q1', name: 'Sales' }],
      channels: ['voice'],
      granted_by: [{ rule: 'inbox_queue_grant', channel: 'voice', queue_id: 'q1', role_id: null, member_type: 'agent' }],
    };
    const doc: UserDoc = { user_id: 'u1', display_name: 'Ana', user_email: 'ana@x.test', user_access: 'active', entries: [entry] };
    const path = entry.granted_by[0]!;
    const variants: Entry[] = [
      { ...entry, access_type: 'automatic_call_recording' },
      { ...entry, target: { ...entry.target, type: 'queue' } },
      { ...entry, target: { ...entry.target, id: 'i2' } },
      { ...entry, target: { ...entry.target, name: 'Main 2' } },
      { ...entry, queues: [{ id: 'q1', name: 'Sales 2' }] },
      { ...entry, queues: [{ id: 'q2', name: 'Sales' }] },
      { ...entry, queues: [] },
      { ...entry, channels: ['video'] },
      { ...entry, channels: ['voice', 'video'] },
      { ...entry, granted_by: [{ ...path, rule: 'automatic_recording_inbox' }] },
      { ...entry, granted_by: [{ ...path, channel: 'video' }] },
      { ...entry, granted_by: [{ ...path, queue_id: 'q2' }] },
      { ...entry, granted_by: [{ ...path, role_id: 'r1' }] },
      { ...entry, granted_by: [{ ...path, member_type: 'supervisor' }] },
      { ...entry, granted_by: [path, path] },
    ];
    expect(sameEntry(entry, structuredClone(entry))).toBe(true);
    expect(sameDoc(doc, structuredClone(doc))).toBe(true);
    for (const v of variants) {
      expect(sameEntry(entry, v)).toBe(false);
      expect(sameDoc(doc, { ...doc, entries: [v] })).toBe(false);
      expect(diffDocs(doc, { ...doc, entries: [v] }).length).toBeGreaterThan(0);
    }
    for (const profile of [{ display_name: 'Bo' }, { user_email: 'bo@x.test' }, { user_access: 'inactive' as const }]) {
      expect(sameDoc(doc, { ...doc, ...profile })).toBe(false);
      expect(diffDocs(doc, { ...doc, ...profile }).map((c) => c.key)).toEqual(['profile']);
    }
    expect(sameDoc(doc, { ...doc, user_id: 'u2' })).toBe(false);
    expect(sameDoc(doc, { ...doc, entries: [] })).toBe(false);
    expect(sameDoc(doc, null)).toBe(false);
    expect(sameDoc(null, null)).toBe(true);
  });
});
