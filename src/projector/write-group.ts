/**
 * A group commit at the write gate (docs/decisions.md 56): the rounds whose last writes wait for
 * the gate at the same time go in one `_bulk`, lightest first up to `maxOps`, and each round's steps
 * after its write (its positions marked, its turn in the write order) run in the gate after that
 * bulk, in the order the rounds joined. A bulk's fixed cost is most of a small round's write on a
 * small machine (a bulk of 1 document takes about as long as one of 200): eight rounds in flight
 * each writing its own bulk kept the gate busy 90 % of the time at a tenth of the capacity.
 *
 * Why the rounds of one group may share a bulk: a round joins only once the earlier rounds of its
 * accounts have written (`WriteTurn.prior`), and those rounds wrote in an earlier bulk; so the rounds
 * of one group share no account, and no order among their ops matters. A refresh still shows whole
 * rounds: the group holds the gate from its bulk to its last round's steps.
 *
 * A round alone when the gate is free is written alone, at once: the group costs nothing when
 * there is nothing to group. A group whose bulk is refused (a document rejected) writes each of its
 * rounds alone, so that one round's failure is its own; an outage fails every round of the group,
 * as it would have failed each alone.
 */
import { retryClass } from '../errors.ts';
import type { BulkResult, DocOp, DocumentsPort, WriteOptions } from '../ports/documents.ts';
import type { WriteGate } from './write-gate.ts';

/**
 * Ops a grouped bulk takes at most (a round with more goes alone). A small load's rounds hold tens
 * of ops each, so eight of them fit; a round past a few hundred ops already pays its bulk's fixed
 * cost with its own, and a small account's write should not ride in a neighbour's thousands.
 */
export const GROUP_OPS = 500;

export interface GroupedWrite {
  /** how the round weighs in the gate (its ops: a small round's few before a big one's thousands) */
  weight: number;
  /** the ops, read when the bulk is made (the write order's `keep` applies then) */
  ops: () => readonly DocOp[];
  /** the bulk's options; only rounds with the same version offset and alias rule share a bulk */
  options: WriteOptions;
  /**
   * Runs in the gate after the bulk that wrote `ops`; true when a later round of its accounts waits
   * for it (then the group lets it join the gate's queue before giving the gate up).
   */
  after: (ops: readonly DocOp[]) => boolean | void;
}

export interface WriteGroup {
  /** Resolves once the round's ops are written and its `after` has run, inside the gate. */
  write(job: GroupedWrite): Promise<void>;
}

interface Waiting extends GroupedWrite {
  seq: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriteGroupDeps {
  gate: WriteGate;
  documents: Pick<DocumentsPort, 'write'>;
  maxOps?: number;
  /** counts what a bulk wrote (once per bulk, not per round) */
  onResult?: (result: BulkResult, rounds: number) => void;
}

/**
 * Lets the promise callbacks queued now run before the caller goes on: a later round of the
 * accounts whose `prior` has just settled reaches the write gate's queue in that time (a few
 * promise steps, see src/projector/write-order.ts), so the gate is handed to it when given up. Only
 * microtasks: the gate is never held while the event loop does other work.
 */
export async function handOver(): Promise<void> {
  for (let i = 0; i < 16; i++) await Promise.resolve();
}

const sameBulk = (a: WriteOptions, b: WriteOptions) => (a.versionOffset ?? 0) === (b.versionOffset ?? 0) && !!a.requireAlias === !!b.requireAlias;

/**
 * The lightest waiting round, then the next lightest that share its bulk, within `maxOps`; taken
 * out of `waiting`, in the order they joined (the steps after the write run as each round's would
 * alone).
 */
function choose(waiting: Waiting[], maxOps: number): { jobs: Waiting[]; ops: (readonly DocOp[])[] } {
  const byWeight = [...waiting].sort((a, b) => a.weight - b.weight || a.seq - b.seq);
  const first = byWeight[0]!;
  const chosen: { job: Waiting; ops: readonly DocOp[] }[] = [];
  let total = 0;
  for (const job of byWeight) {
    if (chosen.length > 0 && !sameBulk(first.options, job.options)) continue;
    const ops = job.ops();
    if (chosen.length > 0 && total + ops.length > maxOps) continue;
    chosen.push({ job, ops });
    total += ops.length;
  }
  for (const { job } of chosen) waiting.splice(waiting.indexOf(job), 1);
  chosen.sort((a, b) => a.job.seq - b.job.seq);
  return { jobs: chosen.map((c) => c.job), ops: chosen.map((c) => c.ops) };
}

export function createWriteGroup(deps: WriteGroupDeps): WriteGroup {
  const maxOps = deps.maxOps ?? GROUP_OPS;
  const waiting: Waiting[] = [];
  let seq = 0;
  /** a turn at the gate is asked for and has not begun */
  let asked = false;

  const lightest = () => waiting.reduce((w, j) => Math.min(w, j.weight), Infinity);

  async function bulk(ops: readonly DocOp[], options: WriteOptions, rounds: number): Promise<void> {
    if (ops.length === 0) return;
    const result = await deps.documents.write(ops, options);
    deps.onResult?.(result, rounds);
  }

  /** One turn at the gate: a bulk of the rounds chosen, then their steps, in the gate. */
  async function turn(): Promise<void> {
    asked = false;
    if (waiting.length === 0) return;
    const { jobs, ops } = choose(waiting, maxOps);
    if (waiting.length > 0) ask();
    const failed = new Map<Waiting, unknown>();
    try {
      await bulk(ops.flat(), jobs[0]!.options, jobs.length);
    } catch (error) {
      if (jobs.length === 1 || retryClass(error) === 'transient') for (const job of jobs) failed.set(job, error);
      // A rejected document: each round alone, so that only the round that holds it fails.
      else for (const [i, job] of jobs.entries()) await bulk(ops[i]!, job.options, 1).catch((e: unknown) => failed.set(job, e));
    }
    let followed = false;
    for (const [i, job] of jobs.entries()) {
      if (failed.has(job)) {
        job.reject(failed.get(job));
        continue;
      }
      try {
        if (job.after(ops[i]!) === true) followed = true;
        job.resolve();
      } catch (error) {
        job.reject(error);
      }
    }
    if (followed) await handOver();
  }

  function ask(): void {
    if (asked) return;
    asked = true;
    // A turn that fails before its bulk (no round's ops to be had) fails every round waiting.
    deps.gate.run(turn, lightest).catch((error: unknown) => {
      for (const job of waiting.splice(0)) job.reject(error);
    });
  }

  return {
    write(job: GroupedWrite): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ ...job, seq: seq++, resolve, reject });
        ask();
      });
    },
  };
}
