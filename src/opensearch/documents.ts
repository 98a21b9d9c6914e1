/** The documents port (src/ports/documents.ts) on OpenSearch: `_bulk` writes with external versions, `get` by id. */
import type { Client } from '@opensearch-project/opensearch';
import type { DocumentsPort, StoredDoc } from '../ports/documents.ts';
import { writeDocs } from './bulk-writer.ts';

export function createOpenSearchDocuments(client: Client): DocumentsPort {
  return {
    write: (ops, options) => writeDocs(client, ops, options),
    async get(index: string, id: string): Promise<StoredDoc | undefined> {
      const { body } = await client.get({ index, id }, { ignore: [404] });
      const found = body as { found?: boolean; _version?: number; _source?: unknown };
      return found.found ? { version: found._version!, source: found._source } : undefined;
    },
  };
}
