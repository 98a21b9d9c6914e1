/**
 * The documents port: what the projector (and the rollback repair and the position publisher)
 * needs from the search store's write side. Every write carries an external version: a write
 * whose version is below the stored one is refused as stale (counted, harmless), so a late or
 * retried write can never replace a newer document. One adapter (src/opensearch/documents.ts,
 * OpenSearch `_bulk` with `version_type: external_gte`) and one in-memory twin
 * (src/twins/documents.ts) implement it; both pass test/contract/documents.ts.
 */

export type DocOp =
  /**
   * `doc` is the source: an object, or its JSON when the caller already has it, as a string or as
   * its UTF-8 bytes (a Uint8Array: what the projector holds, so that no bulk encodes it under the
   * write gate; docs/decisions.md 61)
   */
  { op: 'index'; index: string; id: string; version: number; doc: object | string | Uint8Array } | { op: 'delete'; index: string; id: string; version: number };

export interface BulkResult {
  indexed: number;
  deleted: number;
  /**
   * writes that change nothing, expected and harmless: refused because a newer version is already
   * there, or superseded by a later op on the same document in the same write (not sent: of one
   * write's ops on a document, the last of the highest version decides it, src/records/document-ops.ts)
   */
  stale: number;
}

export interface WriteOptions {
  maxBytes?: number;
  onRequest?: (seconds: number, bytes: number) => void;
  /**
   * Awaited before every request after the first: a long write (tens of requests) lets the caller
   * keep its consumer-group membership alive (kafkajs' heartbeat) and the event loop turning.
   */
  betweenRequests?: () => Promise<void>;
  /**
   * Added to every op's version: the generation's epoch × 2^32 (src/integrity/versions.ts), so that
   * after a rollback repair every write outranks what the lost state wrote.
   */
  versionOffset?: number;
  /**
   * The ops target aliases that must exist: a deleted index is then a failed (retriable) write,
   * never an index recreated empty by the write itself (the projector writes through write aliases).
   */
  requireAlias?: boolean;
}

export interface StoredDoc {
  version: number;
  source: unknown;
}

export interface DocumentsPort {
  /**
   * Writes the ops; throws an AppError when any write failed for another reason than staleness:
   * `opensearch_unavailable` (retriable: a missing index or alias, overload, an outage) or
   * `opensearch_rejected` (the document itself was refused).
   */
  write(ops: readonly DocOp[], options?: WriteOptions): Promise<BulkResult>;
  /** One document as stored (`index` may be an alias), or undefined. */
  get(index: string, id: string): Promise<StoredDoc | undefined>;
}
