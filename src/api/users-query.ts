/**
 * From report parameters to an OpenSearch query over the indexed users (pure: no I/O). Filters are
 * range and term queries on the precomputed `ca.<channel>.<type>` numbers, so a filtered, sorted
 * page costs the same as an unfiltered one.
 */
import { type AccessType, type Channel, filterEntries, hasTargetFilter, rowFromEntries } from '../../projections/index.ts';
import type { SortField, SortOrder } from '../../schemas/api.ts';
import { words } from '../opensearch/search-terms.ts';
import { COUNT_BITS, type IndexedUser, UNNAMED, namedEntries, targetFilterKey } from '../opensearch/user-document.ts';

export interface UsersFilter {
  accountId: string;
  q?: string | undefined;
  channel?: Channel | undefined;
  access_type?: AccessType | undefined;
  /** only entries whose target is this inbox */
  inbox_id?: string | undefined;
  /** only entries targeting or coming through this queue */
  cc_queue_id?: string | undefined;
  /** also list users with no entry that counts */
  includeEmpty?: boolean;
}

export interface UsersSort {
  sort: SortField;
  order: SortOrder;
}

export interface UserRow {
  user_id: string;
  display_name: string;
  user_email: string;
  user_access: IndexedUser['user_access'];
  can_access: number;
  access_types: AccessType[];
}

/** Words of this length or more also match with typos (shorter ones would match too much). */
export const FUZZY_MIN_LENGTH = 4;

/** The order a sort field takes when the request names none: the most useful first. */
export function defaultOrder(sort: SortField): SortOrder {
  return sort === 'can_access' ? 'desc' : 'asc';
}

/** The indexed field holding Can Access under the filter, e.g. `ca.voice.inbox`. */
export function canAccessField(filter: Pick<UsersFilter, 'channel' | 'access_type'>): string {
  return `ca.${filter.channel ?? 'all'}.${filter.access_type ?? 'all'}`;
}

/** The words of `q` folded as the projector folds the stored search terms (see search-terms.ts). */
export function queryWords(q: string | undefined): string[] {
  return q === undefined ? [] : [...new Set(words(q))];
}

function wordClause(word: string): object {
  const prefix = { prefix: { search_terms: { value: word } } };
  if (word.length < FUZZY_MIN_LENGTH) return prefix;
  // The first letter must match: typos there are rare, and it keeps the fuzzy expansion small.
  const fuzzy = { fuzzy: { search_terms: { value: word, fuzziness: 'AUTO', prefix_length: 1 } } };
  return { bool: { should: [prefix, fuzzy], minimum_should_match: 1 } };
}

/**
 * The query: the account, Can Access above 0 under the filter (unless empty users are wanted), and
 * each word of `q` matching a search term. Everything is in filter context: the order is the sort's,
 * never a relevance score (sorting by Can Access under a target filter scores it exactly).
 */
export function buildUsersQuery(filter: UsersFilter, sort?: UsersSort): object {
  const clauses: object[] = [{ term: { account_id: filter.accountId } }];
  const target = targetFilterKey(filter);
  if (!filter.includeEmpty) {
    // A target filter: the user has entries left under exactly this key (tg holds one per target, type and channel).
    if (target !== undefined) clauses.push({ term: { [`tg.${filter.channel ?? 'all'}`]: target } });
    else clauses.push({ range: { [canAccessField(filter)]: { gt: 0 } } });
  }
  for (const word of queryWords(filter.q)) clauses.push(wordClause(word));
  const query = { bool: { filter: clauses } };
  return sort?.sort === 'can_access' && target !== undefined ? targetCountQuery(query, filter, target) : query;
}

/**
 * Can Access under a target filter as the score, without scripts: 1, plus 1 when the user has the
 * key, plus the weights of the bits of (Can Access - 1) stored in `tc.<scope>` (user-document.ts).
 * A user the filter leaves empty (include_empty) scores 1, one with Can Access n scores n + 1.
 */
function targetCountQuery(query: object, filter: UsersFilter, target: string): object {
  const scope = filter.channel ?? 'all';
  const bits = Array.from({ length: COUNT_BITS }, (_, bit) => ({ filter: { term: { [`tc.${scope}`]: `${target}\u001f${bit}` } }, weight: 2 ** bit }));
  const functions = [{ filter: { match_all: {} }, weight: 1 }, { filter: { term: { [`tg.${scope}`]: target } }, weight: 1 }, ...bits];
  return { function_score: { query, functions, score_mode: 'sum', boost_mode: 'replace' } };
}

/** The sort, with user_id last so that every row has a distinct sort key (search_after needs it). */
export function buildSort(sort: UsersSort, filter: UsersFilter): object[] {
  // Under a target filter Can Access is the score the query computes (targetCountQuery).
  if (sort.sort === 'can_access' && targetFilterKey(filter) !== undefined) return [{ _score: sort.order }, { name_sort: 'asc' }, { user_id: 'asc' }];
  switch (sort.sort) {
    case 'name':
      return [{ name_sort: sort.order }, { user_id: 'asc' }];
    case 'email':
      return [{ email_sort: sort.order }, { user_id: 'asc' }];
    case 'can_access':
      return [{ [canAccessField(filter)]: sort.order }, { name_sort: 'asc' }, { user_id: 'asc' }];
  }
}

/** The `_source` fields a report row needs (the entries stay in the index). */
export function rowSourceFields(filter: UsersFilter): string[] {
  // Under a target filter the row is computed from the entries, by the core's own filter.
  if (hasTargetFilter(filter)) return ['user_id', 'display_name', 'user_email', 'user_access', 'entries'];
  return ['user_id', 'display_name', 'user_email', 'user_access', canAccessField(filter), `at.${filter.channel ?? 'all'}`];
}

/** A report row from an indexed user's (partial) source, under the filter. */
export function toUserRow(
  source: Pick<IndexedUser, 'user_id' | 'display_name' | 'user_email' | 'user_access'> & {
    ca?: Partial<IndexedUser['ca']>;
    at?: Partial<IndexedUser['at']>;
    entries?: IndexedUser['entries'];
  },
  filter: UsersFilter,
): UserRow {
  if (hasTargetFilter(filter)) {
    // A row shows no names: the entries are counted unnamed.
    const entries = namedEntries(source.entries ?? [], UNNAMED);
    return rowFromEntries({ ...source, entries }, filterEntries(entries, filter));
  }
  const scope = filter.channel ?? 'all';
  const can_access = source.ca?.[scope]?.[filter.access_type ?? 'all'] ?? 0;
  const types = source.at?.[scope] ?? [];
  return {
    user_id: source.user_id,
    display_name: source.display_name,
    user_email: source.user_email,
    user_access: source.user_access,
    can_access,
    access_types: filter.access_type === undefined ? types : types.filter((t) => t === filter.access_type),
  };
}
