import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_TYPES, CHANNEL_SCOPES, DEFAULT_DEDUPE_WINDOW_MS, type Entry, accessTypes, allDocs, canAccess, filterEntries, replay } from '../../projections/index.ts';
import { inboxesQuerySchema, queuesQuerySchema, userQuerySchema, usersCsvQuerySchema, usersQuerySchema } from '../../schemas/api.ts';
import { buildSort, buildUsersQuery, rowSourceFields, toUserRow } from '../../src/api/users-query.ts';
import { listingHash } from '../../src/api/users-search.ts';
import { fieldErrors } from '../../src/api/validation.ts';
import { countBits, targetCounts, targetFilterKey, toIndexedUser } from '../../src/opensearch/user-document.ts';
import { historyArb } from '../support/arbitraries.ts';

const S = '\u001f';
const path = (rule: Entry['granted_by'][number]['rule'], queue_id: string | null, channel: Entry['channels'][number] = 'voice') => ({
  rule,
  channel,
  queue_id,
  role_id: null,
  member_type: queue_id ? ('agent' as const) : null,
});
const ENTRIES: Entry[] = [
  {
    access_type: 'automatic_call_recording',
    target: { type: 'queue', id: 'q1', name: 'Q1' },
    queues: [{ id: 'q1', name: 'Q1' }],
    channels: ['voice'],
    granted_by: [path('automatic_recording', 'q1')],
  },
  {
    access_type: 'inbox',
    target: { type: 'inbox', id: 'i1', name: 'I1' },
    queues: [
      { id: 'q1', name: 'Q1' },
      { id: 'q2', name: 'Q2' },
    ],
    channels: ['email', 'voice'],
    granted_by: [path('inbox_queue_grant', 'q1'), path('inbox_queue_grant', 'q2', 'email'), path('inbox_user_grant', null)],
  },
  {
    access_type: 'inbox',
    target: { type: 'inbox', id: 'i2', name: 'I2' },
    queues: [{ id: 'q2', name: 'Q2' }],
    channels: ['email'],
    granted_by: [path('inbox_queue_grant', 'q2', 'email')],
  },
];
const DOC = { user_id: 'u1', display_name: 'Ana', user_email: 'a@x', user_access: 'active' as const, entries: ENTRIES };

describe('target filters in the index', () => {
  it('keys a target filter by access type, inbox and queue', () => {
    expect(targetFilterKey({})).toBeUndefined();
    expect(targetFilterKey({ inbox_id: 'i1' })).toBe(`*${S}i${S}i1`);
    // Only Inbox entries target an inbox: the inbox type is the same key, a recording type none stored.
    expect(targetFilterKey({ inbox_id: 'i1', access_type: 'inbox' })).toBe(`*${S}i${S}i1`);
    expect(targetFilterKey({ inbox_id: 'i1', access_type: 'ad_hoc_call_recording' })).toBe(`h${S}i${S}i1`);
    expect(targetFilterKey({ cc_queue_id: 'q1', access_type: 'inbox' })).toBe(`i${S}q${S}q1`);
    expect(targetFilterKey({ inbox_id: 'i1', cc_queue_id: 'q1' })).toBe(`*${S}p${S}i1${S}q1`);
  });

  it('stores Can Access under every filter exactly as the core filter computes it', () => {
    const counts = targetCounts(ENTRIES);
    const types = [undefined, 'inbox', 'automatic_call_recording', 'ad_hoc_call_recording'] as const;
    const filters = types.flatMap((access_type) => [
      ...['i1', 'i2', 'i9'].map((inbox_id) => ({ access_type, inbox_id })),
      ...['q1', 'q2', 'q9'].map((cc_queue_id) => ({ access_type, cc_queue_id })),
      ...['i1', 'i2'].flatMap((inbox_id) => ['q1', 'q2'].map((cc_queue_id) => ({ access_type, inbox_id, cc_queue_id }))),
    ]);
    for (const filter of filters) expect(counts.get(targetFilterKey(filter)!) ?? 0, JSON.stringify(filter)).toBe(canAccess(filterEntries(ENTRIES, filter)));
    expect(counts.get(`*${S}q${S}q1`)).toBe(2);
    expect(counts.get(`*${S}q${S}q2`)).toBe(2);
    expect(counts.get(`*${S}p${S}i2${S}q2`)).toBe(1);
    expect(counts.size).toBe(10);
  });

  it('stores, for any derived document, the Can Access, access types and target keys that the core filters give', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        for (const account of new Set(history.map((r) => r.account))) {
          const state = replay(
            history.filter((r) => r.account === account).map((r) => r.event),
            DEFAULT_DEDUPE_WINDOW_MS,
          );
          for (const doc of allDocs(state.facts).values()) {
            const indexed = toIndexedUser(account, doc);
            for (const scope of CHANNEL_SCOPES) {
              const channel = scope === 'all' ? {} : { channel: scope };
              const entries = filterEntries(doc.entries, channel);
              expect(indexed.at[scope]).toEqual(accessTypes(entries));
              expect(indexed.ca[scope].all).toBe(canAccess(entries));
              for (const access_type of ACCESS_TYPES) expect(indexed.ca[scope][access_type]).toBe(canAccess(filterEntries(doc.entries, { ...channel, access_type })));
              // every key names a filter with rows, and Can Access under it is what its bits add up to
              const targets = [...new Set(entries.flatMap((e) => [e.target.id, ...e.queues.map((q) => q.id)]))];
              for (const access_type of [undefined, ...ACCESS_TYPES])
                for (const inbox_id of [undefined, ...targets])
                  for (const cc_queue_id of [undefined, ...targets]) {
                    const key = targetFilterKey({ access_type, inbox_id, cc_queue_id });
                    if (key === undefined) continue;
                    const n = canAccess(filterEntries(doc.entries, { ...channel, access_type, inbox_id, cc_queue_id }));
                    expect(indexed.tg[scope].includes(key), key).toBe(n > 0);
                    const bits = indexed.tc[scope].filter((k) => k.startsWith(`${key}${S}`)).map((k) => Number(k.slice(key.length + 1)));
                    expect(n > 0 ? 1 + bits.reduce((sum, bit) => sum + 2 ** bit, 0) : 0, key).toBe(n);
                  }
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('indexes keys per channel scope, Can Access above 1 as bits', () => {
    const indexed = toIndexedUser('a', DOC);
    expect(indexed.tg.email).toEqual([`*${S}i${S}i1`, `*${S}i${S}i2`, `*${S}p${S}i1${S}q2`, `*${S}p${S}i2${S}q2`, `*${S}q${S}q2`, `i${S}q${S}q2`]);
    expect(indexed.tc.email).toEqual([`*${S}q${S}q2${S}0`, `i${S}q${S}q2${S}0`]);
    expect(indexed.tc.voice).toEqual([`*${S}q${S}q1${S}0`]);
    expect(indexed.tg.video).toEqual([]);
    expect(countBits(5)).toEqual([0, 2]);
    expect(countBits(0)).toEqual([]);
  });
});

describe('target filters in the users query', () => {
  it('finds candidates by the exact key of the channel scope, not by Can Access', () => {
    expect(buildUsersQuery({ accountId: 'a', channel: 'voice', cc_queue_id: 'q1' })).toEqual({
      bool: { filter: [{ term: { account_id: 'a' } }, { term: { 'tg.voice': `*${S}q${S}q1` } }] },
    });
  });

  it('sorts by Can Access under the target as a score of its bits, names breaking ties', () => {
    const filter = { accountId: 'a', inbox_id: 'i1' };
    const query = buildUsersQuery(filter, { sort: 'can_access', order: 'desc' }) as { function_score: { functions: { weight: number }[]; score_mode: string } };
    expect(query.function_score.score_mode).toBe('sum');
    // 1 for everyone, 1 for having the key, then the bits of Can Access - 1.
    expect(query.function_score.functions.map((f) => f.weight).slice(0, 5)).toEqual([1, 1, 1, 2, 4]);
    expect(buildSort({ sort: 'can_access', order: 'asc' }, filter)).toEqual([{ _score: 'asc' }, { name_sort: 'asc' }, { user_id: 'asc' }]);
    expect(buildUsersQuery(filter, { sort: 'name', order: 'asc' })).toHaveProperty('bool');
  });

  it('computes the row from the entries through the core filter', () => {
    const filter = { accountId: 'a', cc_queue_id: 'q2' };
    expect(rowSourceFields(filter)).toContain('entries');
    expect(toUserRow(DOC, filter)).toEqual({ user_id: 'u1', display_name: 'Ana', user_email: 'a@x', user_access: 'active', can_access: 2, access_types: ['inbox'] });
  });

  it('binds cursors to the target; listings without one hash as before', () => {
    const sort = { sort: 'name', order: 'asc' } as const;
    expect(listingHash({ accountId: 'a', inbox_id: 'i1' }, sort)).not.toBe(listingHash({ accountId: 'a', inbox_id: 'i2' }, sort));
    expect(listingHash({ accountId: 'a', inbox_id: 'i1' }, sort)).not.toBe(listingHash({ accountId: 'a', cc_queue_id: 'i1' }, sort));
    expect(listingHash({ accountId: 'a', inbox_id: undefined }, sort)).toBe(listingHash({ accountId: 'a' }, sort));
  });
});

describe('target parameters', () => {
  it('are accepted on users, user and CSV; a bad or empty id names the field', () => {
    for (const schema of [usersQuerySchema, userQuerySchema, usersCsvQuerySchema]) {
      expect(schema.parse({ inbox_id: 'i1', cc_queue_id: 'q 1' })).toMatchObject({ inbox_id: 'i1', cc_queue_id: 'q 1' });
      expect(fieldErrors(schema, { inbox_id: '', cc_queue_id: 'q\u0000' }).map((e) => e.field)).toEqual(['inbox_id', 'cc_queue_id']);
      expect(fieldErrors(schema, { cc_queue_id: 'q'.repeat(257) }).map((e) => e.field)).toEqual(['cc_queue_id']);
    }
  });

  it('as_of on queues and inboxes; inboxes take channel but no access type', () => {
    expect(queuesQuerySchema.parse({ as_of: '2026-03-01T10:00:00Z' })).toMatchObject({ as_of: '2026-03-01T10:00:00Z' });
    expect(inboxesQuerySchema.parse({ channel: 'voice', as_of: '2026-03-01T10:00:00+02:00' })).toMatchObject({ channel: 'voice' });
    expect(
      fieldErrors(inboxesQuerySchema, { access_type: 'inbox', as_of: 'now' })
        .map((e) => e.field)
        .sort(),
    ).toEqual(['access_type', 'as_of']);
  });
});
