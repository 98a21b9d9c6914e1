/**
 * The documents contract (src/ports/documents.ts): run against the in-memory twin
 * (test/unit/documents-twin.test.ts) and the OpenSearch adapter (test/integration/bulk-writer.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import type { DocOp, DocumentsPort } from '../../src/ports/documents.ts';

export interface DocumentsFixture {
  documents: DocumentsPort;
  /** a fresh index with a strict mapping of two fields, `name` (keyword) and `n` (integer) */
  createStrictIndex(): Promise<string>;
  /** a fresh index reached through an alias: returns the alias */
  createAliasedIndex(): Promise<string>;
}

export function documentsContract(setup: () => Promise<DocumentsFixture>): void {
  describe('documents contract', () => {
    let f: DocumentsFixture;
    let index: string;
    beforeAll(async () => {
      f = await setup();
      index = await f.createStrictIndex();
    });

    it('writes objects, pre-serialized sources and their UTF-8 bytes alike, with ids that need escaping', async () => {
      const id = 'acc\u001fuser "1"\\x';
      const ops: DocOp[] = [
        { op: 'index', index, id, version: 3, doc: { name: 'Ana', n: 1 } },
        { op: 'index', index, id: 'b', version: 1, doc: JSON.stringify({ name: 'Bo Zoë', n: 2 }) },
        // the projector's form: the JSON's UTF-8 bytes, text beyond ASCII included (decision 61)
        { op: 'index', index, id: 'bytes', version: 2, doc: Buffer.from(JSON.stringify({ name: 'Zoë Ødegård 名前 🎧', n: 3 })) },
      ];
      expect(await f.documents.write(ops)).toEqual({ indexed: 3, deleted: 0, stale: 0 });
      expect(await f.documents.get(index, id)).toEqual({ version: 3, source: { name: 'Ana', n: 1 } });
      expect(await f.documents.get(index, 'b')).toEqual({ version: 1, source: { name: 'Bo Zoë', n: 2 } });
      expect(await f.documents.get(index, 'bytes')).toEqual({ version: 2, source: { name: 'Zoë Ødegård 名前 🎧', n: 3 } });
    });

    it('never replaces a newer version: the stale write is counted and the document stays; an equal version replaces it', async () => {
      await f.documents.write([{ op: 'index', index, id: 'c', version: 5, doc: { name: 'new' } }]);
      expect(await f.documents.write([{ op: 'index', index, id: 'c', version: 4, doc: { name: 'old' } }])).toEqual({ indexed: 0, deleted: 0, stale: 1 });
      expect(await f.documents.write([{ op: 'delete', index, id: 'c', version: 2 }])).toEqual({ indexed: 0, deleted: 0, stale: 1 });
      expect(await f.documents.get(index, 'c')).toEqual({ version: 5, source: { name: 'new' } });
      expect(await f.documents.write([{ op: 'index', index, id: 'c', version: 5, doc: { name: 'same version' } }])).toEqual({ indexed: 1, deleted: 0, stale: 0 });
      expect(await f.documents.get(index, 'c')).toEqual({ version: 5, source: { name: 'same version' } });
    });

    it('of the ops of one write on a document, the last of the highest version decides it; the others are counted stale', async () => {
      const result = await f.documents.write([
        { op: 'index', index, id: 'm', version: 5, doc: { name: 'first' } },
        { op: 'index', index, id: 'm', version: 4, doc: { name: 'older, later' } },
        { op: 'index', index, id: 'gone', version: 1, doc: { name: 'made' } },
        { op: 'delete', index, id: 'm', version: 2 },
        { op: 'index', index, id: 'm', version: 5, doc: { name: 'same version, last' } },
        { op: 'delete', index, id: 'gone', version: 2 },
      ]);
      expect(result).toEqual({ indexed: 1, deleted: 1, stale: 4 });
      expect(await f.documents.get(index, 'm')).toEqual({ version: 5, source: { name: 'same version, last' } });
      expect(await f.documents.get(index, 'gone')).toBeUndefined();
    });

    it('adds the version offset to every version (an epoch outranks what the lost state wrote)', async () => {
      await f.documents.write([{ op: 'index', index, id: 'e', version: 7, doc: { name: 'before the repair' } }]);
      const offset = 2 ** 32;
      expect(await f.documents.write([{ op: 'index', index, id: 'e', version: 1, doc: { name: 'after the repair' } }], { versionOffset: offset })).toEqual({
        indexed: 1,
        deleted: 0,
        stale: 0,
      });
      expect(await f.documents.get(index, 'e')).toEqual({ version: offset + 1, source: { name: 'after the repair' } });
      expect((await f.documents.write([{ op: 'index', index, id: 'e', version: 7, doc: { name: 'late' } }])).stale).toBe(1);
    });

    it('deletes, and a delete of a document that is not there is not an error', async () => {
      await f.documents.write([{ op: 'index', index, id: 'd', version: 1, doc: { name: 'Del' } }]);
      const result = await f.documents.write([
        { op: 'delete', index, id: 'd', version: 2 },
        { op: 'delete', index, id: 'never-written', version: 1 },
      ]);
      expect(result).toEqual({ indexed: 0, deleted: 2, stale: 0 });
      expect(await f.documents.get(index, 'd')).toBeUndefined();
    });

    it('a document the mapping refuses fails the call, naming the reason, not retriable; the other documents are written', async () => {
      const error = await f.documents
        .write([
          { op: 'index', index, id: 'ok', version: 1, doc: { name: 'fine' } },
          { op: 'index', index, id: 'bad', version: 1, doc: { unknown_field: true } },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'opensearch_rejected', retriable: false, message: expect.stringMatching(/strict_dynamic_mapping_exception/) });
      expect(await f.documents.get(index, 'bad')).toBeUndefined();
      expect(await f.documents.get(index, 'ok')).toEqual({ version: 1, source: { name: 'fine' } });
    });

    it('writes through an alias that must exist; a missing alias is a retriable failure that writes nothing', async () => {
      const alias = await f.createAliasedIndex();
      expect(await f.documents.write([{ op: 'index', index: alias, id: 'a', version: 1, doc: { name: 'via alias' } }], { requireAlias: true })).toEqual({
        indexed: 1,
        deleted: 0,
        stale: 0,
      });
      expect(await f.documents.get(alias, 'a')).toEqual({ version: 1, source: { name: 'via alias' } });
      const missing = `${alias}-gone`;
      const error = await f.documents.write([{ op: 'index', index: missing, id: 'a', version: 1, doc: { name: 'lost' } }], { requireAlias: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'opensearch_unavailable', retriable: true });
      expect(await f.documents.get(missing, 'a').catch(() => undefined)).toBeUndefined();
    });
  });
}
