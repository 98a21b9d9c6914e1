import { describe, expect, it } from 'vitest';
import { buildSort, buildUsersQuery, canAccessField, defaultOrder, queryWords, rowSourceFields, toUserRow } from '../../src/api/users-query.ts';

describe('users query', () => {
  it('filters on the account and Can Access under the filter', () => {
    expect(buildUsersQuery({ accountId: 'a1' })).toEqual({ bool: { filter: [{ term: { account_id: 'a1' } }, { range: { 'ca.all.all': { gt: 0 } } }] } });
    expect(canAccessField({ channel: 'video', access_type: 'inbox' })).toBe('ca.video.inbox');
    expect(buildUsersQuery({ accountId: 'a1', includeEmpty: true })).toEqual({ bool: { filter: [{ term: { account_id: 'a1' } }] } });
  });

  it('folds q like the stored terms: each word a prefix, longer words also fuzzy', () => {
    expect(queryWords('  MÜLLER, ana.Cruz@Example  ana ')).toEqual(['muller', 'ana', 'cruz', 'example']);
    const query = buildUsersQuery({ accountId: 'a1', q: 'Bo Müller' }) as { bool: { filter: object[] } };
    expect(query.bool.filter.slice(2)).toEqual([
      { prefix: { search_terms: { value: 'bo' } } },
      {
        bool: {
          should: [{ prefix: { search_terms: { value: 'muller' } } }, { fuzzy: { search_terms: { value: 'muller', fuzziness: 'AUTO', prefix_length: 1 } } }],
          minimum_should_match: 1,
        },
      },
    ]);
  });

  it('turns query syntax into nothing but words', () => {
    expect(queryWords('*?"()[]{}:\\/~^ AND OR')).toEqual(['and', 'or']);
    expect(queryWords('🙂🙂')).toEqual([]);
    expect(queryWords('שלום Ωmega')).toEqual(['שלום', 'ωmega']);
    const query = buildUsersQuery({ accountId: 'a1', q: '*:*' }) as { bool: { filter: object[] } };
    expect(query.bool.filter).toHaveLength(2);
  });

  it('sorts with a user_id tie-breaker; can_access by the filtered number, most first by default', () => {
    expect(buildSort({ sort: 'name', order: 'asc' }, { accountId: 'a' })).toEqual([{ name_sort: 'asc' }, { user_id: 'asc' }]);
    expect(buildSort({ sort: 'email', order: 'desc' }, { accountId: 'a' })).toEqual([{ email_sort: 'desc' }, { user_id: 'asc' }]);
    expect(buildSort({ sort: 'can_access', order: 'desc' }, { accountId: 'a', channel: 'voice' })).toEqual([{ 'ca.voice.all': 'desc' }, { name_sort: 'asc' }, { user_id: 'asc' }]);
    expect(defaultOrder('can_access')).toBe('desc');
    expect(defaultOrder('name')).toBe('asc');
  });

  it('reads a row from the filtered fields', () => {
    expect(rowSourceFields({ accountId: 'a', channel: 'email', access_type: 'inbox' })).toEqual([
      'user_id',
      'display_name',
      'user_email',
      'user_access',
      'ca.email.inbox',
      'at.email',
    ]);
    const source = {
      user_id: 'u1',
      display_name: 'Ana',
      user_email: 'a@x',
      user_access: 'active' as const,
      ca: { voice: { all: 2, inbox: 1, automatic_call_recording: 1, ad_hoc_call_recording: 0 } },
      at: { voice: ['automatic_call_recording' as const, 'inbox' as const] },
    };
    expect(toUserRow(source, { accountId: 'a', channel: 'voice' })).toMatchObject({ can_access: 2, access_types: ['automatic_call_recording', 'inbox'] });
    expect(toUserRow(source, { accountId: 'a', channel: 'voice', access_type: 'inbox' })).toMatchObject({ can_access: 1, access_types: ['inbox'] });
  });
});
