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
 * of one group share no account, and no order among their ops matters. A refresh shows a group's
 * rounds whole: the group holds the gate from its bulk to its last round's steps.
 *
 * A round alone when the gate is free is written alone, at once: the group costs nothing when
 * there is nothing to group. A round past `maxOps` is written in slices (decision 58), and the
 * small rounds that wait meanwhile go between them, and so may a refresh, which then marks the
 * round's accounts (decision 59, src/projector/torn-accounts.ts). A group whose bulk is refused (a
 * document rejected) writes each of its rounds alone, so that one round's failure is its own; an
 * outage fails every round of the group, as it would have failed each alone.
 */
import { partlyApplied, retryClass } from '../errors.ts';
import type { BulkResult, DocOp, DocumentsPort, WriteOptions } from '../ports/documents.ts';
import type { AccountPartitions, TornAccounts } from './torn-accounts.ts';
import type { WriteGate } from './write-gate.ts';

/**
 * Ops a grouped bulk takes at most (a round with more goes alone, in slices). A small load's
 * rounds hold tens of ops each, so eight of them fit; a round past a few hundred ops already pays
 * its bulk's fixed cost with its own, and a small account's write should not ride in a
 * neighbour's thousands.
 */
export const GROUP_OPS = 500;

/**
 * A round with more ops than a group takes (`maxOps`) is written in slices of this many, one per
 * turn at the gate, and the small rounds that wait meanwhile go between them (decision 58): under
 * a neighbour's churn a big round's bulk of thousands of documents held the gate for up to 1.8 s
 * on a small machine, and a small account's writes waited for it. A refresh may go between two
 * slices: the round's accounts are marked part-written from its first slice to its end (decision 59).
 */
export const SLICE_OPS = 1_000;

/**
 * A big round waits while small ones are waiting, up to this long (ms); then it begins, and its
 * slices take every other turn with the small rounds. Without it, a round of a few hundred ops
 * waited 5 s behind a stream of lighter ones (at a tenth of the capacity).
 */
export const BIG_PATIENCE_MS = 1_000;

export interface GroupedWrite {
  /** how the round weighs in the gate (its ops: a small round's few before a big one's thousands) */
  weight: number;
  /** the ops, read when the bulk is made (the write order's `keep` applies then) */
  ops: () => readonly DocOp[];
  /** the bulk's options; only rounds with the same version offset and alias rule share a bulk */
  options: WriteOptions;
  /** the accounts whose ops the round writes, with their partitions (marked while it is part-written) */
  accounts: () => AccountPartitions;
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
  /** when it came (ms) */
  since: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriteGroupDeps {
  gate: WriteGate;
  /** what a refresh may show part-written: a round in slices, from its first slice to its end (or past it, when it failed) */
  torn: TornAccounts;
  documents: Pick<DocumentsPort, 'write'>;
  maxOps?: number;
  /** a round with more ops than this is written in slices of it (default SLICE_OPS) */
  sliceOps?: number;
  /** a big round that waited this long (ms) begins before the small rounds (default BIG_PATIENCE_MS) */
  patienceMs?: number;
  /** the clock (ms) */
  now?: () => number;
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
 * The lightest waiting round, then the next lightest that share its bulk, within `maxOps`, in the
 * order they joined (the steps after the write run as each round's would alone).
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
  chosen.sort((a, b) => a.job.seq - b.job.seq);
  return { jobs: chosen.map((c) => c.job), ops: chosen.map((c) => c.ops) };
}

type Bulk = (ops: readonly DocOp[], options: WriteOptions, rounds: number) => Promise<void>;

/**
 * One bulk of the rounds chosen, then their steps in the order they came; true when a later round of
 * their accounts waits for one. A failed round of which part may be written (the bulk was partly
 * applied) has its accounts torn before the gate is given up (decision 59).
 */
async function writeChosen(jobs: Waiting[], ops: (readonly DocOp[])[], bulk: Bulk, torn: TornAccounts): Promise<boolean> {
  const failed = new Map<Waiting, unknown>();
  let partly = false;
  try {
    await bulk(ops.flat(), jobs[0]!.options, jobs.length);
  } catch (error) {
    partly = partlyApplied(error);
    if (jobs.length === 1 || retryClass(error) === 'transient') for (const job of jobs) failed.set(job, error);
    // A rejected document: each round alone, so that only the round that holds it fails.
    else for (const [i, job] of jobs.entries()) await bulk(ops[i]!, job.options, 1).catch((e: unknown) => failed.set(job, e));
  }
  let followed = false;
  for (const [i, job] of jobs.entries()) {
    if (failed.has(job)) {
      if (partly || partlyApplied(failed.get(job))) torn.broke(job.accounts());
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
  return followed;
}

/** A big round written in slices: its ops (those written, then those to write), how many are written, and its accounts (torn meanwhile). */
interface Sliced {
  job: Waiting;
  ops: readonly DocOp[];
  /** how many ops the write order kept at the last read */
  kept: number;
  at: number;
  accounts: AccountPartitions;
}

/**
 * The big round that came first (each waits for those before it only) is taken out of `waiting`
 * and begins, its ops read as its first slice is made; its accounts are torn until it ends.
 */
function beginFirst(waiting: Waiting[], big: (job: Waiting) => boolean, torn: TornAccounts): Sliced {
  const job = waiting.filter(big).reduce((a, b) => (b.seq < a.seq ? b : a));
  const ops = job.ops();
  waiting.splice(waiting.indexOf(job), 1);
  const accounts = job.accounts();
  torn.begin(accounts);
  return { job, ops, kept: ops.length, at: 0, accounts };
}

/**
 * Its ops again, before a later slice: the write order may drop more of them since the last (a
 * retried earlier round of its accounts wrote their outbox between its slices, with deletes newer
 * than its own writes: decision 42). `keep` only ever drops, so an unchanged count means nothing
 * new was dropped.
 */
function keepRest(s: Sliced): void {
  const kept = s.job.ops();
  if (kept.length >= s.kept) return;
  const still = new Set(kept);
  s.ops = [...s.ops.slice(0, s.at), ...s.ops.slice(s.at).filter((op) => still.has(op))];
  s.kept = kept.length;
}

/**
 * The next slice of a big round; its steps after the last one. Once it is written whole or has failed
 * it has ended, and its accounts are whole or stay torn (before the gate is given up).
 */
async function writeSlice(s: Sliced, sliceOps: number, bulk: Bulk, torn: TornAccounts): Promise<{ ended: boolean; followed: boolean }> {
  try {
    if (s.at > 0) {
      // As between the requests of one bulk stream (a heartbeat is due in a long write).
      await s.job.options.betweenRequests?.();
      keepRest(s);
    }
    const part = s.ops.slice(s.at, s.at + sliceOps);
    await bulk(part, s.job.options, 1);
    s.at += part.length;
    if (s.at < s.ops.length) return { ended: false, followed: false };
    const followed = s.job.after(s.ops) === true;
    torn.end(s.accounts, true);
    s.job.resolve();
    return { ended: true, followed };
  } catch (error) {
    // What it wrote stays (a retry writes it again at the same versions), its accounts torn until
    // then; the round fails as it would have alone.
    torn.end(s.accounts, false);
    s.job.reject(error);
    return { ended: true, followed: false };
  }
}

export function createWriteGroup(deps: WriteGroupDeps): WriteGroup {
  const maxOps = deps.maxOps ?? GROUP_OPS;
  const sliceOps = deps.sliceOps ?? SLICE_OPS;
  const patienceMs = deps.patienceMs ?? BIG_PATIENCE_MS;
  const waiting: Waiting[] = [];
  let seq = 0;
  /** a turn at the gate is asked for and has not begun */
  let asked = false;
  /** the big round being written in slices (one at a time), and what it has written */
  let sliced: Sliced | undefined;
  /** the last turn wrote a slice: the next goes to the small rounds waiting, if any */
  let sliceLast = false;

  const big = (job: GroupedWrite) => job.weight > maxOps;
  const now = deps.now ?? (() => performance.now());
  /** a big round has waited past `patienceMs`: it begins next, before the small rounds waiting */
  const overdue = () => waiting.some((job) => big(job) && now() - job.since > patienceMs);
  const lightest = () => waiting.reduce((w, j) => Math.min(w, j.weight), sliced ? sliceOps : Infinity);

  async function bulk(ops: readonly DocOp[], options: WriteOptions, rounds: number): Promise<void> {
    if (ops.length === 0) return;
    const result = await deps.documents.write(ops, options);
    deps.onResult?.(result, rounds);
  }

  /**
   * One turn at the gate: the small rounds waiting (`maxOps` at most each), lightest first, in one
   * bulk; or the next slice of the big round under way (slices and small rounds take turns while
   * both wait); or the first slice of the big round that came first, once no small round waits or
   * it has waited past `patienceMs`.
   */
  async function turn(): Promise<void> {
    asked = false;
    const small = waiting.filter((job) => !big(job));
    let followed = false;
    if (sliced ? !sliceLast || small.length === 0 : small.length < waiting.length && (small.length === 0 || overdue())) {
      sliced ??= beginFirst(waiting, big, deps.torn);
      sliceLast = true;
      const { ended, followed: f } = await writeSlice(sliced, sliceOps, bulk, deps.torn);
      followed = f;
      if (ended) sliced = undefined;
    } else if (small.length > 0) {
      sliceLast = false;
      const { jobs, ops } = choose(small, maxOps);
      for (const job of jobs) waiting.splice(waiting.indexOf(job), 1);
      followed = await writeChosen(jobs, ops, bulk, deps.torn);
    }
    if (waiting.length > 0 || sliced) ask();
    if (followed) await handOver();
  }

  function ask(): void {
    if (asked) return;
    asked = true;
    // A turn that fails before its bulk (no round's ops to be had) fails every round waiting.
    deps.gate.run(turn, lightest).catch((error: unknown) => {
      for (const job of waiting.splice(0)) job.reject(error);
      // The big round under way was not among them: it goes on (a failure reading its ops again
      // before a slice fails it alone, in writeSlice).
      if (sliced) ask();
    });
  }

  return {
    write(job: GroupedWrite): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ ...job, seq: seq++, since: now(), resolve, reject });
        ask();
      });
    },
  };
}
