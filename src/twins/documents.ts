/**
 * The documents port (src/ports/documents.ts) in memory: the twin of the OpenSearch adapter, with
 * its rules (test/contract/documents.ts runs against both): external versions (`external_gte`,
 * offset by `versionOffset`), a stale write counted and harmless, a delete of a missing document no
 * error, a write through a missing alias with `requireAlias` a retriable failure, a document with a
 * field outside a strict index's fields refused (not retriable), and a write to an unknown index
 * (without `requireAlias`) creating it, as OpenSearch does. Sources are kept as JSON: what `get`
 * returns shares nothing with the store. Not modelled: delete tombstones (OpenSearch remembers a
 * deleted document's version for `index.gc_deletes`, 60 s) and requests split by size.
 */
import { AppError } from '../errors.ts';
import type { BulkResult, DocOp, DocumentsPort, StoredDoc, WriteOptions } from '../ports/documents.ts';
import { decidingOps } from '../records/document-ops.ts';

interface TwinIndex {
  docs: Map<string, { version: number; json: string }>;
  /** the highest version a missing document was deleted at (for `versionOf`; writes do not consult it) */
  deleted: Map<string, number>;
  /** a strict mapping's fields: any other top-level field is refused */
  fields?: ReadonlySet<string>;
}

export interface DocumentsTwin extends DocumentsPort {
  createIndex(name: string, options?: { fields?: readonly string[] }): void;
  deleteIndex(name: string): void;
  putAlias(alias: string, index: string): void;
  /** Every document of an index (or alias), by id. */
  all(index: string): Map<string, StoredDoc>;
  /**
   * The version a document holds, or for a missing one the highest version it was deleted at:
   * what the last write that took effect said. (Like an expired tombstone, it refuses nothing.)
   */
  versionOf(index: string, id: string): number | undefined;
}

interface Failure {
  status: number;
  type: string;
  reason: string;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createDocumentsTwin(): DocumentsTwin {
  const indices = new Map<string, TwinIndex>();
  const aliases = new Map<string, string>();

  function resolve(name: string, requireAlias: boolean): TwinIndex | Failure {
    const aliased = aliases.get(name);
    if (aliased !== undefined) return indices.get(aliased) ?? { status: 404, type: 'index_not_found_exception', reason: `no such index [${aliased}]` };
    if (requireAlias) return { status: 404, type: 'index_not_found_exception', reason: `[require_alias] request flag is [true] and [${name}] is not an alias` };
    let index = indices.get(name);
    if (!index) indices.set(name, (index = { docs: new Map(), deleted: new Map() }));
    return index;
  }

  function apply(op: DocOp, index: TwinIndex, versionOffset: number, result: BulkResult): Failure | undefined {
    const version = op.version + versionOffset;
    const current = index.docs.get(op.id);
    if (current && current.version > version) {
      result.stale += 1;
      return undefined;
    }
    if (op.op === 'delete') {
      index.docs.delete(op.id);
      index.deleted.set(op.id, Math.max(version, index.deleted.get(op.id) ?? -Infinity));
      result.deleted += 1;
      return undefined;
    }
    const json = typeof op.doc === 'string' ? op.doc : op.doc instanceof Uint8Array ? Buffer.from(op.doc).toString('utf8') : JSON.stringify(op.doc);
    const unknown = index.fields && Object.keys(JSON.parse(json) as object).find((f) => !index.fields!.has(f));
    if (unknown) return { status: 400, type: 'strict_dynamic_mapping_exception', reason: `mapping set to strict, dynamic introduction of [${unknown}] is not allowed` };
    index.docs.set(op.id, { version, json });
    index.deleted.delete(op.id);
    result.indexed += 1;
    return undefined;
  }

  return {
    async write(given: readonly DocOp[], options: WriteOptions = {}): Promise<BulkResult> {
      const started = performance.now();
      // As the adapter: the ops that decide their documents, the others counted stale.
      const { ops, superseded } = decidingOps(given);
      const result: BulkResult = { indexed: 0, deleted: 0, stale: superseded };
      const failures: Failure[] = [];
      for (const op of ops) {
        const index = resolve(op.index, options.requireAlias ?? false);
        const failure = 'docs' in index ? apply(op, index, options.versionOffset ?? 0, result) : index;
        if (failure) failures.push(failure);
      }
      if (ops.length > 0) options.onRequest?.((performance.now() - started) / 1000, 0);
      if (failures.length > 0) {
        const retriable = failures.every((f) => f.status === 404 || f.status === 429 || f.status >= 500);
        const reasons = failures.slice(0, 3).map((f) => `${f.status} ${f.type}: ${f.reason}`);
        throw new AppError(retriable ? 'opensearch_unavailable' : 'opensearch_rejected', `bulk write failed for ${failures.length} documents: ${reasons.join('; ')}`, {
          retriable,
        });
      }
      return result;
    },

    async get(name: string, id: string): Promise<StoredDoc | undefined> {
      const stored = indices.get(aliases.get(name) ?? name)?.docs.get(id);
      return stored ? { version: stored.version, source: JSON.parse(stored.json) } : undefined;
    },

    createIndex(name: string, options: { fields?: readonly string[] } = {}): void {
      indices.set(name, { docs: new Map(), deleted: new Map(), ...(options.fields ? { fields: new Set(options.fields) } : {}) });
    },
    deleteIndex(name: string): void {
      indices.delete(name);
    },
    putAlias(alias: string, index: string): void {
      aliases.set(alias, index);
    },
    versionOf(name: string, id: string): number | undefined {
      const index = indices.get(aliases.get(name) ?? name);
      return index?.docs.get(id)?.version ?? index?.deleted.get(id);
    },
    all(name: string): Map<string, StoredDoc> {
      const docs = indices.get(aliases.get(name) ?? name)?.docs ?? new Map<string, { version: number; json: string }>();
      return new Map([...docs].map(([id, { version, json }]) => [id, { version, source: JSON.parse(json) }]));
    },
  };
}
