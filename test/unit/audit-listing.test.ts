/**
 * The in-memory listing of as_of answers (search, rows, order, pages) and the replay's merge of
 * topics by event time.
 */
import { describe, expect, it } from 'vitest';
import type { FactEvent, UserDoc } from '../../projections/index.ts';
import { compareKeys, editDistance, listRows, matchesWords, pageAfter, rowOf, wordMatchesTerm } from '../../src/api/as-of-listing.ts';
import { asOfListingHash } from '../../src/api/as-of-reports.ts';
import { listingHash } from '../../src/api/users-search.ts';
import { compareCodePoints } from '../../src/audit/compare.ts';
import { eventsUntil } from '../../src/audit/replay.ts';

const entry = (access_type: 'inbox' | 'automatic_call_recording', id: string, channel: 'voice' | 'video') => ({
  access_type,
  target: { type: access_type === 'inbox' ? ('inbox' as const) : ('queue' as const), id, name: id },
  queues: access_type === 'inbox' ? [] : [{ id, name: id }],
  channels: [channel],
  granted_by: [
    {
      rule: access_type === 'inbox' ? ('inbox_user_grant' as const) : ('automatic_recording' as const),
      channel,
      queue_id: access_type === 'inbox' ? null : id,
      role_id: null,
      member_type: null,
    },
  ],
});

const doc = (user_id: string, display_name: string, entries: UserDoc['entries'] = []): UserDoc => ({
  user_id,
  display_name,
  user_email: `${user_id}@example.com`,
  user_access: 'active',
  entries,
});

describe('as_of listing in memory', () => {
  it('matches words as the live search: prefixes, typos from 4 letters with the first letter right', () => {
    expect(editDistance([...'muller'], [...'mulelr'], 2)).toBe(1); // a transposition is one edit
    expect(editDistance([...'abc'], [...'xyz'], 1)).toBe(2);
    expect(wordMatchesTerm('mul', 'muller')).toBe(true);
    expect(wordMatchesTerm('muler', 'muller')).toBe(true);
    expect(wordMatchesTerm('mull', 'mall')).toBe(true); // 4 letters: one edit
    expect(wordMatchesTerm('mul', 'mal')).toBe(false); // 3 letters: prefix only
    expect(wordMatchesTerm('nuller', 'muller')).toBe(false); // first letter must match
    expect(wordMatchesTerm('mxxler', 'muller')).toBe(true); // 6 letters: two edits
    expect(wordMatchesTerm('mxxxer', 'muller')).toBe(false);
    expect(matchesWords({ display_name: 'Dara Müller', user_email: 'dara.muller@example.com' }, ['dara', 'muler'])).toBe(true);
    expect(matchesWords({ display_name: 'Dara Müller', user_email: 'dara.muller@example.com' }, ['dara', 'zola'])).toBe(false);
    expect(matchesWords({ display_name: 'Dara', user_email: 'd@x' }, [])).toBe(true);
  });

  it('rows under filters; empty users only when asked', () => {
    const d = doc('u1', 'Ana', [entry('automatic_call_recording', 'q1', 'video'), entry('inbox', 'i1', 'voice')]);
    expect(rowOf(d, { accountId: 'a' })).toMatchObject({ can_access: 2, access_types: ['automatic_call_recording', 'inbox'] });
    expect(rowOf(d, { accountId: 'a', channel: 'video' })).toMatchObject({ can_access: 1, access_types: ['automatic_call_recording'] });
    expect(rowOf(d, { accountId: 'a', channel: 'email' })).toBeNull();
    expect(rowOf(d, { accountId: 'a', channel: 'email', includeEmpty: true })).toMatchObject({ can_access: 0, access_types: [] });
  });

  it('sorts like the index: folded names by code point, ties on user id; can_access with name then id', () => {
    const docs = [doc('u3', 'émile'), doc('u1', 'Zed'), doc('u2', 'Emile'), doc('u4', '\u{1F600} smile'), doc('u5', '\uE000 private')].map((d) => ({
      ...d,
      entries: [entry('inbox', 'i1', 'voice')],
    }));
    const byName = listRows(docs, { accountId: 'a' }, { sort: 'name', order: 'asc' }).map((r) => r.row.user_id);
    expect(byName).toEqual(['u2', 'u3', 'u1', 'u5', 'u4']); // U+E000 before U+1F600, unlike UTF-16 order
    expect(compareCodePoints('\uE000', '\u{1F600}')).toBeLessThan(0);
    expect('\uE000' < '\u{1F600}').toBe(false);
    const desc = listRows(docs, { accountId: 'a' }, { sort: 'name', order: 'desc' }).map((r) => r.row.user_id);
    expect(desc).toEqual(['u4', 'u5', 'u1', 'u2', 'u3']); // ties stay ascending on user id
    const more = [...docs, doc('u0', 'Zed', [entry('inbox', 'i1', 'voice'), entry('inbox', 'i2', 'voice')])];
    expect(listRows(more, { accountId: 'a' }, { sort: 'can_access', order: 'desc' }).map((r) => r.row.user_id)).toEqual(['u0', 'u2', 'u3', 'u1', 'u5', 'u4']);
    expect(compareKeys([1, 'a', 'x'], [2, 'a', 'x'], 'desc')).toBeGreaterThan(0);
  });

  it('pages continue strictly after the last key, whatever the page size', () => {
    const docs = Array.from({ length: 23 }, (_, i) => doc(`u${String(i).padStart(2, '0')}`, `Name ${i % 5}`, [entry('inbox', 'i1', 'voice')]));
    const rows = listRows(docs, { accountId: 'a' }, { sort: 'name', order: 'asc' });
    const seen: string[] = [];
    let after: (string | number)[] | undefined;
    for (const size of [1, 4, 7, 100]) {
      const page = pageAfter(rows, after, size, 'asc');
      seen.push(...page.map((r) => r.row.user_id));
      after = page[page.length - 1]?.key ?? after;
    }
    expect(seen).toEqual(rows.map((r) => r.row.user_id));
  });

  it('binds as_of cursors to the instant and apart from live cursors', () => {
    const filter = { accountId: 'a', channel: 'voice' as const };
    const sort = { sort: 'name' as const, order: 'asc' as const };
    expect(asOfListingHash(1, filter, sort)).not.toBe(asOfListingHash(2, filter, sort));
    expect(asOfListingHash(1, filter, sort)).not.toBe(listingHash(filter, sort));
  });
});

describe('replay merge', () => {
  const ev = (id: string, timeMs: number) => ({ id, type: 'user.deleted', timeMs, data: { user_id: id } }) as FactEvent;
  it('keeps events up to T, each topic in its order, merged by time', () => {
    const byTopic = new Map([
      ['users', [ev('a', 1), ev('b', 5), ev('c', 9)]],
      ['roles', [ev('d', 2), ev('e', 5)]],
      ['queues', [ev('f', 8), ev('g', 3)]], // times run backwards within the topic: its order is kept
      ['inboxes', []],
    ] as const);
    expect(eventsUntil(byTopic as never, 8).map((e) => e.id)).toEqual(['a', 'd', 'b', 'e', 'f', 'g']);
    expect(eventsUntil(byTopic as never, 0)).toEqual([]);
  });
});
