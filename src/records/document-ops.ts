/**
 * A write's document ops coalesced per document, shared by every documents implementation (the
 * OpenSearch adapter and the in-memory twin), as account-records.ts coalesces a commit's fact
 * changes: each document is written once, with the op that decides it.
 *
 * Why the others need not be sent: a store applies one write's ops in order, each replacing an
 * equal or older version (`external_gte`) and refusing an older one, so of several ops on one
 * document the last of the highest version decides what is stored; the others are superseded
 * within the write, and no refresh falls inside a write (decision 28). A round holds one op per
 * account commit, and an account's events on several partitions are several commits, so a user
 * changed by each of them went out once per commit (docs/decisions.md 68).
 */
import type { DocOp } from '../ports/documents.ts';

/** An op's document: its index (or alias) and id. */
export const docKey = (op: DocOp) => `${op.index}\u001f${op.id}`;

/**
 * The ops that decide their documents, in the order given: of several on one document, the last of
 * the highest version. `superseded` counts those left out (they would change nothing stored).
 */
export function decidingOps(ops: readonly DocOp[]): { ops: readonly DocOp[]; superseded: number } {
  /** per document, the position of its deciding op so far */
  const deciding = new Map<string, number>();
  for (let i = 0; i < ops.length; i++) {
    const key = docKey(ops[i]!);
    const at = deciding.get(key);
    if (at === undefined || ops[i]!.version >= ops[at]!.version) deciding.set(key, i);
  }
  if (deciding.size === ops.length) return { ops, superseded: 0 };
  const kept = new Set(deciding.values());
  return { ops: ops.filter((_, i) => kept.has(i)), superseded: ops.length - kept.size };
}
