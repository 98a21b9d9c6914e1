/**
 * The report listing computed in memory (pure), for answers `as_of` a past instant: the same keyword
 * search, filters, rows and order as the live listing, which OpenSearch computes on the users index
 * (users-query.ts). Used on the documents rebuilt from the history at T.
 */
import { type UserDoc, filterEntries, rowFromEntries } from '../../projections/index.ts';
import { compareCodePoints } from '../audit/compare.ts';
import { fold, searchTerms } from '../opensearch/search-terms.ts';
import { FUZZY_MIN_LENGTH, type UserRow, type UsersFilter, type UsersSort, queryWords } from './users-query.ts';

/** Edits AUTO fuzziness allows a word of this many code points (OpenSearch: 0 to 2, 1 to 5, 2 beyond). */
function allowedEdits(length: number): number {
  return length < 3 ? 0 : length < 6 ? 1 : 2;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment, as Lucene's fuzzy query
 * with transpositions), on code points; stops early above `max`.
 */
export function editDistance(a: readonly string[], b: readonly string[], max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      row.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** Whether one folded query word matches a stored search term: a prefix, or (4+ letters) a near miss. */
export function wordMatchesTerm(word: string, term: string): boolean {
  if (term.startsWith(word)) return true;
  const w = [...word];
  if (w.length < FUZZY_MIN_LENGTH) return false;
  const t = [...term];
  // prefix_length 1: the first letter must be right.
  if (t[0] !== w[0]) return false;
  const max = allowedEdits(w.length);
  return editDistance(w, t, max) <= max;
}

/**
 * Whether the document matches the keyword search: every word must match one of the user's terms.
 * (OpenSearch also caps a fuzzy word at 50 expansions over the whole index; in memory there is no
 * cap, so on a very large account a word with a typo may find a few more users here.)
 */
export function matchesWords(doc: Pick<UserDoc, 'display_name' | 'user_email'>, words: readonly string[]): boolean {
  if (words.length === 0) return true;
  const terms = searchTerms(doc.display_name, doc.user_email);
  return words.every((w) => terms.some((t) => wordMatchesTerm(w, t)));
}

/** A listed row with the values it sorts on. */
export interface SortedRow {
  row: UserRow;
  key: (string | number)[];
}

/** The user's row under the filter, or null when it is not listed (no entry counts, unless empty rows are wanted). */
export function rowOf(doc: UserDoc, filter: UsersFilter): UserRow | null {
  const entries = filterEntries(doc.entries, { channel: filter.channel, access_type: filter.access_type, inbox_id: filter.inbox_id, cc_queue_id: filter.cc_queue_id });
  if (entries.length === 0 && !filter.includeEmpty) return null;
  return rowFromEntries(doc, entries);
}

/** The sort values of a row, as the live listing's sort (users-query.ts buildSort) orders it. */
export function sortKey(row: UserRow, sort: UsersSort): (string | number)[] {
  switch (sort.sort) {
    case 'name':
      return [fold(row.display_name), row.user_id];
    case 'email':
      return [fold(row.user_email), row.user_id];
    case 'can_access':
      return [row.can_access, fold(row.display_name), row.user_id];
  }
}

function compareValue(a: string | number, b: string | number): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : compareCodePoints(String(a), String(b));
}

/** Compares sort keys: the first value in the requested order, the tie-breakers ascending. */
export function compareKeys(a: readonly (string | number)[], b: readonly (string | number)[], order: UsersSort['order']): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = compareValue(a[i]!, b[i]!);
    if (d !== 0) return i === 0 && order === 'desc' ? -d : d;
  }
  return 0;
}

/** The document's listed row with its sort key, or null when the search or the filter leaves it out. */
export function listedRow(doc: UserDoc, words: readonly string[], filter: UsersFilter, sort: UsersSort): SortedRow | null {
  if (!matchesWords(doc, words)) return null;
  const row = rowOf(doc, filter);
  return row ? { row, key: sortKey(row, sort) } : null;
}

/** Sorts listed rows in the listing's order (in place). */
export function sortRows(rows: SortedRow[], order: UsersSort['order']): SortedRow[] {
  return rows.sort((a, b) => compareKeys(a.key, b.key, order));
}

/** The listed rows of the documents under the filter, keyword search and sort. */
export function listRows(docs: Iterable<UserDoc>, filter: UsersFilter, sort: UsersSort): SortedRow[] {
  const words = queryWords(filter.q);
  const out: SortedRow[] = [];
  for (const doc of docs) {
    const listed = listedRow(doc, words, filter, sort);
    if (listed) out.push(listed);
  }
  return sortRows(out, sort.order);
}

/** listRows over documents that arrive one at a time (only the small rows are kept). */
export async function listRowsOf(docs: AsyncIterable<UserDoc> | Iterable<UserDoc>, filter: UsersFilter, sort: UsersSort): Promise<SortedRow[]> {
  const words = queryWords(filter.q);
  const out: SortedRow[] = [];
  for await (const doc of docs) {
    const listed = listedRow(doc, words, filter, sort);
    if (listed) out.push(listed);
  }
  return sortRows(out, sort.order);
}

/** The rows after `after` (a sort key of the previous page's last row), at most `size`. */
export function pageAfter(rows: readonly SortedRow[], after: readonly (string | number)[] | undefined, size: number, order: UsersSort['order']): SortedRow[] {
  let start = 0;
  if (after) {
    // Rows are sorted: binary search for the first row strictly after `after`.
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(rows[mid]!.key, after, order) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  return rows.slice(start, start + size);
}
