/**
 * Bulk writes of user documents, with external versions: each write carries the account version it
 * was derived at, so a late or stale write (a projector that lost its partitions, a retried request)
 * can never replace a newer document. Requests are sized by bytes.
 */
import type { Client, Types } from '@opensearch-project/opensearch';
import { AppError } from '../errors.ts';
import type { BulkResult, DocOp, WriteOptions } from '../ports/documents.ts';
import { decidingOps } from '../records/document-ops.ts';

type BulkItem = Record<string, { status: number; error?: { type?: string; reason?: string } }>;

/** Only what is read back: a successful request's items shrink to their status. */
const FILTER_PATH = 'errors,items.*.status,items.*.error.type,items.*.error.reason';

/** The action line, without an object and a JSON.stringify of it per document. */
function actionLine(op: DocOp, indexJson: string, versionOffset: number): string {
  return `{"${op.op}":{"_index":${indexJson},"_id":${JSON.stringify(op.id)},"version":${op.version + versionOffset},"version_type":"external_gte"}}`;
}

/** Adds a bulk answer's outcome to `result`; throws when any write failed for another reason than staleness. */
function countAnswer(answer: { errors: boolean; items?: BulkItem[] }, sent: { indexOps: number; deleteOps: number }, result: BulkResult): void {
  if (!answer.errors) {
    // Every item succeeded (a delete of a missing document is not an error either).
    result.indexed += sent.indexOps;
    result.deleted += sent.deleteOps;
    return;
  }
  const items = answer.items ?? [];
  const failures: string[] = [];
  for (const item of items) {
    const [kind, r] = Object.entries(item)[0]!;
    if (r.status === 409) result.stale += 1;
    else if (r.status >= 300 && !(kind === 'delete' && r.status === 404)) failures.push(`${r.status} ${r.error?.type ?? ''}: ${r.error?.reason ?? ''}`);
    else if (kind === 'delete') result.deleted += 1;
    else result.indexed += 1;
  }
  if (failures.length === 0) return;
  const retriable = items.every((item) => {
    const { status, error } = Object.values(item)[0]!;
    // A closed index (being restored, say) opens again: worth waiting for, like a 5xx.
    return status < 300 || status === 409 || status === 404 || status === 429 || status >= 500 || error?.type === 'index_closed_exception';
  });
  throw new AppError(retriable ? 'opensearch_unavailable' : 'opensearch_rejected', `bulk write failed for ${failures.length} documents: ${failures.slice(0, 3).join('; ')}`, {
    retriable,
  });
}

/** A failure after some of the call's writes were applied says so (`partlyApplied`, decision 59). */
function partly(error: unknown, result: BulkResult): unknown {
  if (result.indexed + result.deleted === 0) return error;
  return new AppError(error instanceof AppError ? error.code : 'opensearch_unavailable', error instanceof Error ? error.message : String(error), {
    retriable: error instanceof AppError ? error.retriable : true,
    cause: error,
    details: { partlyApplied: true },
  });
}

/**
 * The body: each line encoded (or, already bytes, copied) straight into one Buffer of `capacity`
 * bytes at most, so there is no joined copy of the whole body, and the client does not measure a
 * string's byte length again.
 */
function ndjson(lines: readonly (string | Uint8Array)[], capacity: number): Buffer {
  const buffer = Buffer.allocUnsafe(capacity);
  let at = 0;
  for (const line of lines) {
    if (typeof line === 'string') at += buffer.write(line, at);
    else {
      buffer.set(line, at);
      at += line.length;
    }
    buffer[at++] = 0x0a;
  }
  return buffer.subarray(0, at);
}

/**
 * Writes the ops that decide their documents (decidingOps: the others are counted stale, unsent) in
 * requests of at most `maxBytes`; throws when any write failed for another reason than staleness.
 */
export async function writeDocs(client: Client, given: readonly DocOp[], options: WriteOptions = {}): Promise<BulkResult> {
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const versionOffset = options.versionOffset ?? 0;
  const { ops, superseded } = decidingOps(given);
  const result: BulkResult = { indexed: 0, deleted: 0, stale: superseded };
  const indexJson = new Map<string, string>();
  let lines: (string | Uint8Array)[] = [];
  /** the lines' size: characters of a string, bytes of bytes (what maxBytes counts) */
  let bytes = 0;
  /** what the lines take as UTF-8 at most: bytes as they are, 3 per UTF-16 unit of a string */
  let capacity = 0;
  let indexOps = 0;
  let deleteOps = 0;
  let requests = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    await send().catch((error: unknown) => {
      throw partly(error, result);
    });
  };
  const send = async () => {
    if (requests++ > 0) await options.betweenRequests?.();
    const body = ndjson(lines, capacity);
    const started = performance.now();
    // The body goes as the NDJSON bytes built above; the client's types know only an array of
    // operations (which it would serialize again), hence the one cast.
    const response = await client.bulk({
      body: body as unknown as Types.Core_Bulk.OperationContainer[],
      filter_path: FILTER_PATH,
      ...(options.requireAlias ? { require_alias: true } : {}),
    });
    options.onRequest?.((performance.now() - started) / 1000, body.length);
    countAnswer(response.body, { indexOps, deleteOps }, result);
    lines = [];
    bytes = 0;
    capacity = 0;
    indexOps = 0;
    deleteOps = 0;
  };
  for (const op of ops) {
    let index = indexJson.get(op.index);
    if (index === undefined) indexJson.set(op.index, (index = JSON.stringify(op.index)));
    const meta = actionLine(op, index, versionOffset);
    const doc = op.op === 'index' ? (typeof op.doc === 'string' || op.doc instanceof Uint8Array ? op.doc : JSON.stringify(op.doc)) : undefined;
    const size = meta.length + (doc?.length ?? 0) + 2;
    if (bytes + size > maxBytes) await flush();
    lines.push(meta);
    if (doc !== undefined) lines.push(doc);
    bytes += size;
    capacity += 3 * meta.length + (doc === undefined ? 0 : typeof doc === 'string' ? 3 * doc.length : doc.length) + 2;
    if (op.op === 'index') indexOps += 1;
    else deleteOps += 1;
  }
  await flush();
  return result;
}
