/**
 * The indexed form of a user document: the core's UserDoc, plus precomputed fields for every
 * (channel, access type) filter combination, so that a filtered, sorted report page is a plain
 * range filter and sort on numbers and keywords, with no nested queries.
 */
import {
  ACCESS_TYPES,
  type AccessType,
  CHANNEL_SCOPES,
  type ChannelScope,
  type Entry,
  type UserDoc,
  accessTypes,
  canAccess,
  filterEntries,
} from '../../projections/index.ts';
import { fold, searchTerms } from './search-terms.ts';

export type TypeScope = AccessType | 'all';
export const TYPE_SCOPES: readonly TypeScope[] = ['all', ...ACCESS_TYPES];

export interface IndexedUser {
  account_id: string;
  user_id: string;
  display_name: string;
  user_email: string;
  user_access: UserDoc['user_access'];
  name_sort: string;
  email_sort: string;
  search_terms: string[];
  /** can_access per channel scope and access-type scope: `ca.voice.inbox` */
  ca: Record<ChannelScope, Record<TypeScope, number>>;
  /** access types per channel scope: `at.video` */
  at: Record<ChannelScope, AccessType[]>;
  entries: Entry[];
}

export function toIndexedUser(accountId: string, doc: UserDoc): IndexedUser {
  const ca = {} as IndexedUser['ca'];
  const at = {} as IndexedUser['at'];
  for (const scope of CHANNEL_SCOPES) {
    const entries = filterEntries(doc.entries, scope === 'all' ? {} : { channel: scope });
    at[scope] = accessTypes(entries);
    const counts = { all: canAccess(entries) } as Record<TypeScope, number>;
    for (const type of ACCESS_TYPES) counts[type] = canAccess(entries.filter((e) => e.access_type === type));
    ca[scope] = counts;
  }
  return {
    account_id: accountId,
    user_id: doc.user_id,
    display_name: doc.display_name,
    user_email: doc.user_email,
    user_access: doc.user_access,
    // folded like the search terms, so that "Émile" sorts with the E's
    name_sort: fold(doc.display_name),
    email_sort: fold(doc.user_email),
    search_terms: searchTerms(doc.display_name, doc.user_email),
    ca,
    at,
    entries: doc.entries,
  };
}

/** Back to the core's document (what the drill-down and verify read). */
export function fromIndexedUser(indexed: IndexedUser): UserDoc {
  return {
    user_id: indexed.user_id,
    display_name: indexed.display_name,
    user_email: indexed.user_email,
    user_access: indexed.user_access,
    entries: indexed.entries,
  };
}

/** Document id: account and user joined by U+001F (which no id may contain), hashed when too long. */
export function userDocId(accountId: string, userId: string): string {
  return `${accountId}\u001f${userId}`;
}
