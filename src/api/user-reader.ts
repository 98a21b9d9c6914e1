/** Reading one user's indexed document for the drill-down. */
import type { Client } from '@opensearch-project/opensearch';
import { AppError } from '../errors.ts';
import { type IndexedUser, userDocId } from '../opensearch/user-document.ts';

/** The user's document, or null when the account has no such user (never known, or deleted). */
export async function readUser(opensearch: Client, index: string, accountId: string, userId: string): Promise<IndexedUser | null> {
  const response = await opensearch.get({ index, id: userDocId(accountId, userId) }, { ignore: [404] });
  const body = response.body as { found?: boolean; _source?: IndexedUser; error?: { type?: string } };
  if (body.error?.type === 'index_not_found_exception') throw new AppError('not_ready', 'the live index does not exist yet', { retriable: true });
  if (!body.found || !body._source) return null;
  // The id embeds the account, but checking the stored account too costs nothing.
  return body._source.account_id === accountId && body._source.user_id === userId ? body._source : null;
}
