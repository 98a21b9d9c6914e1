/**
 * Bulk writes of user documents, with external versions: each write carries the account version it
 * was derived at, so a late or stale write (a projector that lost its partitions, a retried request)
 * can never replace a newer document. Requests are sized by bytes.
 */
import type { Client } from '@opensearch-project/opensearch';
import { AppError } from '../errors.ts';

export type DocOp =
  | { op: 'index'; index: string; id: string; version: number; doc: object }
  | { op: 'delete'; index: string; id: string; version: number };

export interface BulkResult {
  indexed: number;
  deleted: number;
  /** writes refused because a newer version is already there: expected, harmless */
  stale: number;
}

export interface BulkWriterOptions {
  maxBytes?: number;
  onRequest?: (seconds: number, bytes: number) => void;
}

/** Writes the ops in requests of at most `maxBytes`; throws when any write failed for another reason than staleness. */
export async function writeDocs(client: Client, ops: readonly DocOp[], options: BulkWriterOptions = {}): Promise<BulkResult> {
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const result: BulkResult = { indexed: 0, deleted: 0, stale: 0 };
  let lines: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    const body = `${lines.join('\n')}\n`;
    const started = performance.now();
    const response = await client.bulk({ body } as never);
    options.onRequest?.((performance.now() - started) / 1000, bytes);
    const items = (response.body as { items: Record<string, { status: number; error?: { type?: string; reason?: string } }>[] }).items;
    const failures: string[] = [];
    for (const item of items) {
      const [kind, r] = Object.entries(item)[0]!;
      if (r.status === 409) result.stale += 1;
      else if (r.status >= 300 && !(kind === 'delete' && r.status === 404)) failures.push(`${r.status} ${r.error?.type ?? ''}: ${r.error?.reason ?? ''}`);
      else if (kind === 'delete') result.deleted += 1;
      else result.indexed += 1;
    }
    if (failures.length > 0) {
      const retriable = items.every((item) => {
        const status = Object.values(item)[0]!.status;
        return status < 300 || status === 409 || status === 404 || status === 429 || status >= 500;
      });
      throw new AppError(retriable ? 'opensearch_unavailable' : 'opensearch_rejected', `bulk write failed for ${failures.length} documents: ${failures.slice(0, 3).join('; ')}`, { retriable });
    }
    lines = [];
    bytes = 0;
  };
  for (const op of ops) {
    const meta = JSON.stringify({ [op.op]: { _index: op.index, _id: op.id, version: op.version, version_type: 'external_gte' } });
    const doc = op.op === 'index' ? JSON.stringify(op.doc) : undefined;
    const size = meta.length + (doc?.length ?? 0) + 2;
    if (bytes + size > maxBytes) await flush();
    lines.push(meta);
    if (doc !== undefined) lines.push(doc);
    bytes += size;
  }
  await flush();
  return result;
}
