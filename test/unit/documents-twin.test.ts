/** The in-memory documents twin passes the contract the OpenSearch adapter passes (test/contract/documents.ts). */
import { describe } from 'vitest';
import { createDocumentsTwin } from '../../src/twins/documents.ts';
import { documentsContract } from '../contract/documents.ts';

describe('documents twin', () => {
  documentsContract(async () => {
    const documents = createDocumentsTwin();
    let n = 0;
    return {
      documents,
      createStrictIndex: async () => {
        const name = `strict-${(n += 1)}`;
        documents.createIndex(name, { fields: ['name', 'n'] });
        return name;
      },
      createAliasedIndex: async () => {
        const name = `aliased-${(n += 1)}`;
        documents.createIndex(name);
        documents.putAlias(`${name}-write`, name);
        return `${name}-write`;
      },
    };
  });
});
