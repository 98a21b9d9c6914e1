/** Reading one user's indexed document for the drill-down. */
import type { Client } from '@opensearch-project/opensearch';
import { type IndexedUser, userDocId } from '../opensearch/user-document.ts';
import { missingIndexError } from './integrity-gate.ts';

/** The user's document, or null when the account has no such user (never known, or deleted). */
export async function readUser(opensearch: Client, index: string, accountId: string, userId: string): Promise<IndexedUser | null> {
  // Not realtime: the document as of the last refresh, like every search, so that it belongs to the
  // state the published positions name (a realtime read sees writes no position names yet).
  const response = await opensearch.get({ index, id: userDocId(accountId, userId), realtime: false }, { ignore: [404] });
  const body = response.body as { found?: boolean; _source?: IndexedUser; error?: { type?: string } };
  if (body.error?.type === 'index_not_found_exception' || body.error?.type === 'index_closed_exception') throw missingIndexError(body);
  if (!body.found || !body._source) return null;
  // The id embeds the account, but checking the stored account too costs nothing.
  return body._source.account_id === accountId && body._source.user_id === userId ? body._source : null;
}
