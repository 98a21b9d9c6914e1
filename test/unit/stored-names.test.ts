/**
 * The stored document without names (decision 64): toIndexedUser drops every inbox and queue name,
 * and a reader names the entries back: the current name, else the one a document written before
 * decision 64 stored, else the id. Over random derived documents, naming a stored document with the
 * account's own names gives the derived document back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EntityNames, allDocs, replay } from '../../projections/index.ts';
import { UNNAMED, fromIndexedUser, namedEntries, namedIds, storedEntry, storedForm, toIndexedUser } from '../../src/opensearch/user-document.ts';
import { historyArb } from '../support/arbitraries.ts';

const ENTRY = {
  access_type: 'inbox' as const,
  target: { type: 'inbox' as const, id: 'i1', name: 'Sales' },
  queues: [
    { id: 'q1', name: 'Support' },
    { id: 'q2', name: 'Billing' },
  ],
  channels: ['voice' as const],
  granted_by: [{ rule: 'inbox_queue_grant' as const, channel: 'voice' as const, queue_id: 'q1', role_id: null, member_type: 'agent' as const }],
};

describe('documents stored without names', () => {
  it('stores no name, and names an entry by the current name, else the stored one, else the id', () => {
    const stored = storedEntry(ENTRY);
    expect(JSON.stringify(stored)).not.toMatch(/Sales|Support|Billing/);
    const current: EntityNames = { inbox: (id) => (id === 'i1' ? 'Sales (EU)' : undefined), queue: (id) => (id === 'q1' ? 'Support 2' : undefined) };
    expect(namedEntries([stored], current)[0]).toMatchObject({
      target: { name: 'Sales (EU)' },
      queues: [
        { id: 'q1', name: 'Support 2' },
        { id: 'q2', name: 'q2' },
      ],
    });
    // A document from before decision 64: its stored names stand where the facts name nothing.
    expect(namedEntries([ENTRY], current)[0]).toMatchObject({
      target: { name: 'Sales (EU)' },
      queues: [
        { id: 'q1', name: 'Support 2' },
        { id: 'q2', name: 'Billing' },
      ],
    });
    expect(namedEntries([stored], UNNAMED)[0]).toMatchObject({ target: { name: 'i1' }, queues: [{ name: 'q1' }, { name: 'q2' }] });
    expect(namedIds([stored])).toEqual({ inboxes: new Set(['i1']), queues: new Set(['q1', 'q2']) });
  });

  it('compares a document written before decision 64 as one written now', () => {
    const doc = { user_id: 'u1', display_name: 'Ana', user_email: 'a@x.test', user_access: 'active' as const, entries: [ENTRY] };
    const now = toIndexedUser('acc', doc);
    expect(JSON.stringify(storedForm({ ...now, entries: [ENTRY] }))).toBe(JSON.stringify(now));
    expect(JSON.stringify(storedForm(now))).toBe(JSON.stringify(now));
  });

  it('gives the derived document back when named by the account, over random histories', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const facts = replay(
          history.filter((r) => r.account === 'acc_a').map((r) => r.event),
          Number.POSITIVE_INFINITY,
        ).facts;
        const names: EntityNames = { inbox: (id) => facts.inboxes.get(id)?.inbox_name, queue: (id) => facts.queues.get(id)?.queue_name };
        for (const doc of allDocs(facts).values()) expect(fromIndexedUser(toIndexedUser('acc_a', doc), names)).toEqual(doc);
      }),
      { numRuns: 150 },
    );
  });
});
