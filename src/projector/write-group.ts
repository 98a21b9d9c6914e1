/**
 * A group commit at the write gate (docs/decisions.md 56): the rounds whose last writes wait for
 * the gate at the same time go in one `_bulk`, lightest first up to `maxOps`, and each round's steps
 * after its write (its positions marked, its turn in the write order) run in the gate after that
 * bulk, in the order the rounds joined. A bulk's fixed cost is most of a small round's write on a
 * small machine (a bulk of 1 document takes about as long as one of 200): eight rounds in flight
 * each writing its own bulk kept the gate busy 90 % of the time at a tenth of the capacity.
 *
 * Why the rounds of one group may share a bulk: a round joins once the earlier rounds of its
 * accounts have written (`WriteTurn.prior`), or while their writes wait in the group (decision 60):
 * then it goes after them, in the same bulk or a later one, and fails if one of them fails. A bulk
 * holds its rounds in the order they joined, and OpenSearch applies one bulk's ops on a document in
 * their order; the rounds of other accounts share no document with them. A refresh shows a
 * group's rounds whole: the group holds the gate from its bulk to its last round's steps.
 *
 * A round alone when the gate is free is written alone, at once: the group costs nothing when
 * there is nothing to group. A round past `maxOps` is written in slices (decision 58), and the
 * small rounds that wait meanwhile go between them, and so may a refresh, which then marks the
 * round's accounts (decision 59, src/projector/torn-accounts.ts). A group whose bulk is refused (a
 * document rejected) writes each of its rounds alone, so that one round's failure is its own; an
 * outage fails every round of the group, as it would have failed each alone.
 */
import { AppError, partlyApplied, retryClass } from '../errors.ts';
import type { BulkResult, DocOp, DocumentsPort, WriteOptions } from '../ports/documents.ts';
import type { AccountPartitions, TornAccounts } from './torn-accounts.ts';
import type { WriteGate } from './write-gate.ts';
import { docKey } from '../records/document-ops.ts';
import { type WriteHandle, withoutDeleted } from './write-order.ts';

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
  /**
   * The earlier rounds of its accounts whose writes wait in this group (`WriteTurn.behind`): the
   * round goes in the same bulk after them, or in a later one once they are written; it fails
   * when one of them fails (decision 60).
   */
  behind?: readonly WriteHandle[];
  /** told, as it joins, how the round's write is known to a later round of its accounts */
  joined?: (handle: WriteHandle) => void;
}

export interface WriteGroup {
  /** Resolves once the round's ops are written and its `after` has run, inside the gate. */
  write(job: GroupedWrite): Promise<void>;
  /** The rounds waiting, whether a turn is asked for, and the big round in slices (for the projector's stall report). */
  status(): { waiting: number; oldestWaitingMs?: number; turnAsked: boolean; slicing?: { written: number; of: number } };
}

interface Waiting extends GroupedWrite {
  state: WriteHandle['state'];
  failure?: unknown;
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
 * order they joined (the steps after the write run as each round's would alone). A round behind
 * others of its accounts (decision 60) goes only after them: once they are chosen too, or written.
 */
function choose(waiting: Waiting[], maxOps: number): { jobs: Waiting[]; ops: (readonly DocOp[])[] } {
  const byWeight = [...waiting].sort((a, b) => a.weight - b.weight || a.seq - b.seq);
  const chosen: { job: Waiting; ops: readonly DocOp[] }[] = [];
  const taken = new Set<WriteHandle>();
  const opsOf = new Map<Waiting, readonly DocOp[]>();
  /**
   * The deletes chosen, by document: a round behind another one of its accounts drops its older
   * index of a document that one deletes (as the write order's `keep` does once a delete is
   * written, decision 42), so that the bulk does not rely on OpenSearch's tombstone.
   */
  const deletes = new Map<string, number>();
  let total = 0;
  for (let added = true; added;) {
    added = false;
    for (const job of byWeight) {
      if (taken.has(job) || !(job.behind ?? []).every((h) => h.state === 'written' || taken.has(h))) continue;
      if (chosen.length > 0 && !sameBulk(chosen[0]!.job.options, job.options)) continue;
      const read = opsOf.get(job) ?? job.ops();
      opsOf.set(job, read);
      const ops = deletes.size === 0 ? read : withoutDeleted(read, (k) => deletes.get(k));
      if (chosen.length > 0 && total + ops.length > maxOps) continue;
      chosen.push({ job, ops });
      taken.add(job);
      total += ops.length;
      added = true;
      for (const op of ops) if (op.op === 'delete' && (deletes.get(docKey(op)) ?? -Infinity) < op.version) deletes.set(docKey(op), op.version);
    }
  }
  chosen.sort((a, b) => a.job.seq - b.job.seq);
  return { jobs: chosen.map((c) => c.job), ops: chosen.map((c) => c.ops) };
}

type Bulk = (ops: readonly DocOp[], options: WriteOptions, rounds: number) => Promise<void>;

/**
 * Why a round behind a failed one fails (decision 60): its own ops were not the cause, so it is
 * tried again (then after the earlier round's retry), whatever that round's failure was.
 */
function behindFailed(cause: unknown): AppError {
  if (cause instanceof AppError && cause.details?.behindFailed === true) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AppError('store_conflict', `an earlier round of its accounts failed to write (${reason}); written after its retry`, {
    retriable: true,
    cause,
    details: { behindFailed: true },
  });
}

/**
 * One bulk of the rounds chosen, then their steps in the order they came; true when a later round of
 * their accounts waits for one. A failed round of which part may be written (the bulk was partly
 * applied) has its accounts torn before the gate is given up (decision 59).
 */
async function writeChosen(jobs: Waiting[], ops: (readonly DocOp[])[], bulk: Bulk, torn: TornAccounts): Promise<boolean> {
  const failed = new Map<WriteHandle, unknown>();
  /** a round behind one that failed in this turn fails with it, unwritten or not (decision 60) */
  const failedBehind = (job: Waiting) => job.behind?.find((h) => failed.has(h));
  let partly = false;
  try {
    await bulk(ops.flat(), jobs[0]!.options, jobs.length);
  } catch (error) {
    partly = partlyApplied(error);
    if (jobs.length === 1 || retryClass(error) === 'transient') for (const job of jobs) failed.set(job, error);
    // A rejected document: each round alone, so that only the round that holds it fails (and those behind it).
    else
      for (const [i, job] of jobs.entries()) {
        const before = failedBehind(job);
        if (before) failed.set(job, behindFailed(failed.get(before)));
        else await bulk(ops[i]!, job.options, 1).catch((e: unknown) => failed.set(job, e));
      }
  }
  let followed = false;
  for (const [i, job] of jobs.entries()) {
    const before = failedBehind(job);
    if (before && !failed.has(job)) failed.set(job, behindFailed(failed.get(before)));
    if (failed.has(job)) {
      // Settled whatever its accounts say: a round left 'writing' would hold the rounds behind it for ever.
      try {
        if (partly || partlyApplied(failed.get(job))) torn.broke(job.accounts());
      } finally {
        job.reject(failed.get(job));
      }
      continue;
    }
    try {
      if (job.after(ops[i]!) === true) followed = true;
      job.resolve();
    } catch (error) {
      failed.set(job, error);
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
 * The big round that came first of those that may begin (each waits for those before it only, and
 * for the earlier rounds of its accounts: decision 60) is taken out of `waiting` and begins, its ops read as its first slice is made; its accounts are torn until it ends.
 */
function beginFirst(waiting: Waiting[], startable: (job: Waiting) => boolean, torn: TornAccounts): Sliced {
  const job = waiting.filter(startable).reduce((a, b) => (b.seq < a.seq ? b : a));
  const ops = job.ops();
  const accounts = job.accounts();
  torn.begin(accounts);
  // Taken out only now: a failure above leaves it waiting, for the catch in `ask` to fail.
  waiting.splice(waiting.indexOf(job), 1);
  job.state = 'writing';
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

/**
 * The rounds behind a failed write fail too (decision 60): their own earlier rounds' retries write
 * first. Then the small rounds ready to go: those behind none but written rounds, or ready ones.
 */
function ready(waiting: Waiting[], big: (job: Waiting) => boolean): Waiting[] {
  for (let i = 0; i < waiting.length;) {
    const job = waiting[i]!;
    const before = job.behind?.find((h) => h.state === 'failed');
    if (!before) i++;
    else {
      waiting.splice(i, 1);
      job.reject(behindFailed(before.failure));
      i = 0;
    }
  }
  const ok = new Set<WriteHandle>();
  for (const job of waiting) if (!big(job) && (job.behind ?? []).every((h) => h.state === 'written' || ok.has(h))) ok.add(job);
  return waiting.filter((job) => ok.has(job));
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
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
  /** a big round that may begin: the earlier rounds of its accounts it waits behind are written (decision 60) */
  const startable = (job: Waiting) => big(job) && (job.behind ?? []).every((h) => h.state === 'written');
  /** a big round has waited past `patienceMs`: it begins next, before the small rounds waiting */
  const overdue = () => waiting.some((job) => startable(job) && now() - job.since > patienceMs);
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
    const small = ready(waiting, big);
    let followed = false;
    if (sliced ? !sliceLast || small.length === 0 : waiting.some(startable) && (small.length === 0 || overdue())) {
      sliced ??= beginFirst(waiting, startable, deps.torn);
      sliceLast = true;
      const { ended, followed: f } = await writeSlice(sliced, sliceOps, bulk, deps.torn);
      followed = f;
      if (ended) sliced = undefined;
    } else if (small.length > 0) {
      sliceLast = false;
      const { jobs, ops } = choose(small, maxOps);
      for (const job of jobs) {
        waiting.splice(waiting.indexOf(job), 1);
        job.state = 'writing';
      }
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
      for (const job of waiting.splice(0)) job.reject(job.behind?.length ? behindFailed(error) : error);
      // The big round under way was not among them: it goes on (a failure reading its ops again
      // before a slice fails it alone, in writeSlice).
      if (sliced) ask();
    });
  }

  return {
    status() {
      const oldest = Math.min(...waiting.map((job) => job.since));
      return {
        waiting: waiting.length,
        ...(waiting.length > 0 ? { oldestWaitingMs: Math.round(now() - oldest) } : {}),
        turnAsked: asked,
        ...(sliced ? { slicing: { written: sliced.at, of: sliced.ops.length } } : {}),
      };
    },
    write(job: GroupedWrite): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const joining: Waiting = {
          ...job,
          state: 'waiting',
          seq: seq++,
          since: now(),
          resolve: () => {
            joining.state = 'written';
            resolve();
          },
          reject: (error) => {
            joining.state = 'failed';
            joining.failure = error;
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what the bulk or a step threw, as before the wrapper
            reject(error);
          },
        };
        waiting.push(joining);
        job.joined?.(joining);
        ask();
      });
    },
  };
}
