/** Reading an account's user documents back, all of them, in user-id order (search_after). */
import type { Client, Types } from '@opensearch-project/opensearch';
import type { IndexedUser } from './user-document.ts';

/** Yields every indexed user of the account, in pages of `pageSize`. */
export async function* readAccountUsers(client: Client, index: string, accountId: string, pageSize = 1000): AsyncGenerator<IndexedUser> {
  let after: Types.Common.SortResults | undefined;
  for (;;) {
    const response = await client.search({
      index,
      body: {
        size: pageSize,
        query: { term: { account_id: accountId } },
        sort: [{ user_id: 'asc' }],
        ...(after ? { search_after: after } : {}),
      },
    });
    const hits = (response.body as { hits: { hits: { _source: IndexedUser; sort: Types.Common.SortResults }[] } }).hits.hits;
    for (const hit of hits) yield hit._source;
    if (hits.length < pageSize) return;
    after = hits[hits.length - 1]!.sort;
  }
}
