/**
 * Projecting a round (one or more topic-partitions, each account's share from its lane, src/projector/lanes.ts):
 * each account's events of each partition are applied and committed to Redis atomically, then the
 * changed documents and fact intervals of them all are written to OpenSearch in one bulk stream,
 * then the outboxes are cleared. A crash anywhere leaves either nothing or a complete commit whose
 * outbox says what still has to be written.
 */
import { type UserDoc, deriveUser } from '../../projections/index.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { toIndexedUser, userDocId } from '../opensearch/user-document.ts';
import type { AccountStatePort, OutboxClear } from '../ports/account-state.ts';
import type { DocOp, DocumentsPort, WriteOptions } from '../ports/documents.ts';
import type { AccountCache, CachedAccount } from './account-cache.ts';
import { type PositionedEvent, planBatchPaced } from './plan-batch.ts';
import type { AccountPartitions, TornAccounts } from './torn-accounts.ts';
import type { WriteGate } from './write-gate.ts';
import { handOver, type WriteGroup } from './write-group.ts';
import type { WriteHandle, WriteTurn } from './write-order.ts';

export interface BatchDeps {
  store: AccountStatePort;
  cache: AccountCache;
  documents: DocumentsPort;
  /** the generation's users and facts indices */
  indices: () => { users: string; facts: string };
  windowMs: number;
  logger: Logger;
  metrics?: Metrics;
  maxBulkBytes?: number;
  /** keeps the consumer group membership alive during long batches (kafkajs' heartbeat) */
  heartbeat?: () => Promise<void>;
  /**
   * Called once every account of the batch is committed to Redis, before the bulk write: the
   * projector publishes the batch's applied position there (the summary reflects it from then on).
   */
  onCommitted?: (outcome: BatchOutcome) => Promise<void>;
  /** planBatch's work budget per commit (default WORK_PER_COMMIT) */
  workPerCommit?: number;
  /**
   * Commits per account and partition at most (default: as many as its events need). What is left
   * is not consumed (`BatchOutcome.consumed` says how much was): the projector's lanes hand it to
   * the next round, so that one account's fan-out never holds the others for long.
   */
  maxPieces?: number;
  /**
   * The work (distinct users reached plus events) the whole call may take, shared by its accounts: each
   * commit is planned within what is left (at least one event each), so that a round stays short
   * while other accounts wait (default: no limit beyond `workPerCommit`).
   */
  budget?: { left: number };
  /** writes held before an early write (default MAX_HELD_OPS) */
  maxHeldOps?: number;
  /** added to every account version written to OpenSearch: the generation's epoch (src/integrity/versions.ts) */
  versionOffset?: () => number;
  /**
   * Called after the bulk write, before the outboxes are cleared, with the version offsets the
   * batch's bulks were written at: throws when the writes may have been refused for a reason the
   * bulk result cannot tell (the epoch changed since they were made), so that the outbox stays and
   * the retry writes it again.
   */
  afterWrite?: (versionOffsets: ReadonlySet<number>) => Promise<void>;
  /** the indices are write aliases that must exist (a deleted index fails the write) */
  requireAlias?: boolean;
  /** the bulk stream runs through it, with `onWritten` (src/projector/write-gate.ts) */
  gate?: WriteGate;
  /**
   * The batch's last write joins the rounds waiting for the gate in one bulk (decision 56); absent,
   * it takes the gate alone. Not for a batch that holds the gate already (an early write).
   */
  group?: WriteGroup;
  /** called once the documents are written, inside the gate: the projector marks its positions */
  onWritten?: (outcome: BatchOutcome) => void;
  /**
   * Handed the fact intervals written (after `afterWrite`): they are cleared from the outbox once a
   * refresh shows them (the position publisher, decision 47). Absent, they are cleared at once.
   */
  onIntervalsWritten?: (written: OutboxClear[]) => void;
  /**
   * The round's turn in the write order (src/projector/write-order.ts): nothing is written before
   * `prior` settles (the earlier rounds of the call's accounts have written or ended; never awaited
   * while the call holds the gate or an account's lock: an early write waits for the next chance instead);
   * what it writes passes `keep` first (an index op of a document a round deleted at a later version
   * is dropped), `wrote` learns what was written, and `written` that the last write is made.
   */
  turn?: Pick<WriteTurn, 'prior' | 'keep' | 'wrote' | 'written' | 'joined' | 'behind'>;
  /**
   * What a refresh may show part-written (decision 59): told of the accounts of a round that failed
   * after an early write (before the gate is given up), and of the accounts whose outbox a round
   * wrote whole (inside the gate).
   */
  torn?: Pick<TornAccounts, 'broke' | 'recovered'>;
  /**
   * Told of the accounts a failure dropped from the cache (their next load writes their outbox
   * first): a round given up for good leaves them torn, since their next rounds may write before
   * that (decision 59).
   */
  onDropped?: (accounts: AccountPartitions) => void;
}

/** Accounts of one batch planned and committed at the same time. */
export const ACCOUNTS_IN_FLIGHT = 8;

/** User documents derived per commit at most (planBatch's maxWork): about a second of CPU here. */
export const WORK_PER_COMMIT = 10_000;

/** Document and interval writes a batch holds in memory at most before it writes them (createOpSink). */
export const MAX_HELD_OPS = 20_000;

/**
 * What a long batch calls between accounts and commits: lets the event loop turn (timers,
 * sockets), and sends kafkajs' heartbeat at most once a second.
 */
function createPacer(heartbeat: (() => Promise<void>) | undefined): () => Promise<void> {
  let lastBeat = Date.now();
  return async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const now = Date.now();
    if (heartbeat && now - lastBeat > 1_000) {
      lastBeat = now;
      await heartbeat().catch(() => undefined);
    }
  };
}

export interface PartitionRef {
  topic: string;
  partition: number;
}

/** One partition's share of a projection: its events by account, each list in offset order. */
export interface BatchPart {
  source: PartitionRef;
  byAccount: ReadonlyMap<string, PositionedEvent[]>;
}

interface AccountWrites {
  accountId: string;
  /** the cached account the writes were derived from */
  account: CachedAccount;
  recovery: boolean;
  version: number;
  users: string[];
  intervalIds: string[];
}

/**
 * A user document's op, its document serialized at once and held as its UTF-8 bytes: a round holds
 * its ops until it writes them (up to MAX_HELD_OPS), and one buffer per document is one small
 * object for the collector to copy or mark (its bytes outside the heap), where the indexed document
 * is a few hundred; and the bulk copies the bytes under the write gate instead of encoding them
 * there (decision 61).
 */
function docOp(index: string, accountId: string, userId: string, doc: UserDoc | null, version: number): DocOp {
  const id = userDocId(accountId, userId);
  return doc ? { op: 'index', index, id, version, doc: Buffer.from(JSON.stringify(toIndexedUser(accountId, doc))) } : { op: 'delete', index, id, version };
}

/** Documents serialized between two pauses of a commit's ops (decision 61). */
export const DOCS_PER_PAUSE = 100;

/**
 * The document ops of `users`, DOCS_PER_PAUSE at a time with `pace` between: a fan-out of
 * thousands of users took the event loop for hundreds of ms at once to serialize them, and every
 * other account's reply from Redis and turn at the write gate waited behind it (decision 61).
 */
export async function docOps(pace: () => Promise<void>, users: readonly string[], op: (userId: string) => DocOp): Promise<DocOp[]> {
  const ops: DocOp[] = [];
  for (let i = 0; i < users.length; i++) {
    if (i > 0 && i % DOCS_PER_PAUSE === 0) await pace();
    ops.push(op(users[i]!));
  }
  return ops;
}

/**
 * What a crash left in the account's outbox: documents rederived from the facts, fact intervals as
 * stored. Once per load, even when the outbox is empty: its confirmation takes the account off the
 * dirty set, where a commit whose reply was lost leaves it (test/unit/project-batch.test.ts).
 */
async function recoveryWrites(deps: BatchDeps, pace: () => Promise<void>, accountId: string, account: CachedAccount): Promise<{ writes: AccountWrites; ops: DocOp[] } | undefined> {
  if (account.recovered) return undefined;
  const indices = deps.indices();
  const users = [...account.dirty.keys()];
  // In turns, like a commit's (decision 61): a crash amid a big round leaves thousands of users here.
  const userOps = await docOps(pace, users, (u) => docOp(indices.users, accountId, u, deriveUser(account.state.facts, u), account.version));
  return {
    writes: { accountId, account, recovery: true, version: account.version, users, intervalIds: [...account.intervalOutbox.keys()] },
    ops: [...userOps, ...[...account.intervalOutbox].map(([id, { version, json }]): DocOp => ({ op: 'index', index: indices.facts, id, version, doc: json }))],
  };
}

function bulkOptions(deps: BatchDeps, pace: () => Promise<void>): WriteOptions {
  return {
    ...(deps.maxBulkBytes === undefined ? {} : { maxBytes: deps.maxBulkBytes }),
    onRequest: (seconds) => deps.metrics?.bulkSeconds.observe(seconds),
    // The writes of a big group (a role change reaching tens of thousands of users) take tens of
    // requests, and no heartbeat went out meanwhile: one gap through which a session can time out
    // (the full-history drain was evicted from its group 23 times, docs/benchmarks-journal.md).
    betweenRequests: pace,
    versionOffset: deps.versionOffset?.() ?? 0,
    ...(deps.requireAlias ? { requireAlias: true } : {}),
  };
}

/**
 * The earlier rounds of the call's accounts write first (`turn.prior`). Until they have, ops are
 * held whatever their number (a round's ops are bounded by its work budget): an early write must
 * not wait for them where the caller may hold an account's lock that one of them needs to retry.
 */
function priorWrites(deps: BatchDeps): { settled: Promise<void>; ended: () => boolean } {
  let ended = deps.turn === undefined;
  const end = () => void (ended = true);
  return { settled: (deps.turn?.prior ?? Promise.resolve()).then(end, end), ended: () => ended };
}

/** Takes the gate and keeps it until the function it gives is called. */
function holdGate(gate: WriteGate, weight: number): Promise<() => void> {
  return new Promise((acquired) => void gate.run(() => new Promise<void>((done) => acquired(done)), weight));
}

/**
 * A batch's last write through the write group (decision 56): `held` gives its ops when the bulk is
 * made, `done` is told what was written, inside the gate.
 */
function joinGroup(
  deps: BatchDeps,
  group: WriteGroup,
  pace: () => Promise<void>,
  held: () => DocOp[],
  accounts: () => AccountPartitions,
  done: (ops: readonly DocOp[]) => void,
  behind: readonly WriteHandle[] | undefined,
  options: WriteOptions,
): Promise<void> {
  return group.write({
    ...(behind && behind.length > 0 ? { behind } : {}),
    joined: (handle) => deps.turn?.joined(handle),
    weight: held().length + 1,
    ops: () => (deps.turn ? deps.turn.keep(held()) : held()),
    options,
    accounts,
    after: (ops) => {
      if (ops.length > 0) deps.turn?.wrote(ops);
      done(ops);
      return deps.turn?.written();
    },
  });
}

/**
 * Where a batch's document and interval writes go as they are made. They are written in one bulk
 * stream at the end of the batch, under the write gate, unless more than `maxHeld` ops are waiting:
 * then what waits is written at once, and the gate is taken then and held to the end of the batch,
 * so that no refresh shows part of the batch (decision 28) while memory holds `maxHeld` ops at most
 * (a role change reaching 50,000 agents is written in pieces). Every op comes from a commit: a crash
 * between an early write and the end leaves the outbox, which the retry writes again.
 */
// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
function createOpSink(deps: BatchDeps, pace: () => Promise<void>, maxHeld: number, accounts: () => AccountPartitions) {
  let pending: DocOp[] = [];
  let written = 0;
  let release: (() => void) | undefined;
  let flushing: Promise<void> = Promise.resolve();
  const prior = priorWrites(deps);
  /** the version offsets its bulks were written at (the epoch check after the write compares them) */
  const offsets = new Set<number>();
  const options = (): WriteOptions => {
    const made = bulkOptions(deps, pace);
    offsets.add(made.versionOffset ?? 0);
    return made;
  };

  async function writeOps(held: readonly DocOp[]): Promise<void> {
    const ops = deps.turn ? deps.turn.keep(held) : held;
    if (ops.length === 0) return;
    const result = await deps.documents.write(ops, options());
    deps.turn?.wrote(ops);
    deps.metrics?.documentsWritten.inc({ op: 'index' }, result.indexed);
    deps.metrics?.documentsWritten.inc({ op: 'delete' }, result.deleted);
    written += ops.length;
  }

  /** Takes the gate and keeps it until `close` (no gate: nothing to take). */
  async function hold(): Promise<void> {
    if (!release && deps.gate) release = await holdGate(deps.gate, pending.length);
  }

  return {
    async add(ops: readonly DocOp[]): Promise<void> {
      for (const op of ops) pending.push(op);
      if (pending.length < maxHeld || !prior.ended()) return;
      flushing = flushing.then(async () => {
        if (pending.length < maxHeld) return;
        const now = pending;
        pending = [];
        await hold();
        await writeOps(now);
      });
      await flushing;
    },
    /** Writes what is left, then calls `onWritten` with the ops written in all, inside the gate. */
    async finish(onWritten: (written: number) => void): Promise<void> {
      await flushing;
      // The earlier rounds of these accounts whose writes still wait in the group: this one joins
      // them and goes in the same bulk after them, instead of a turn of its own after theirs (decision 60).
      const behind = !release && deps.group && deps.gate ? deps.turn?.behind() : undefined;
      if (!behind) await prior.settled;
      const last = async () => {
        await writeOps(pending);
        pending = [];
        onWritten(written);
        // A later round of these accounts waits for this write (a small account's next change):
        // it may write now, and it goes into the gate's queue before the gate is given up, so it
        // does not wait for a neighbour's bulk queued meanwhile (decision 45).
        if (deps.turn?.written()) await handOver();
      };
      if (release || !deps.gate) await last();
      // Weighed by its writes, like alone; the bulk may carry other rounds' writes beside them.
      else if (deps.group)
        await joinGroup(
          deps,
          deps.group,
          pace,
          () => pending,
          accounts,
          (ops) => {
            pending = [];
            onWritten((written += ops.length));
          },
          behind,
          options(),
        );
      // Weighed by its writes: a small round's few go before a big one's queued thousands.
      else await deps.gate.run(last, pending.length + 1);
    },
    /** An early write holds the gate (until `close`). */ holding: () => release !== undefined,
    versionOffsets: (): ReadonlySet<number> => offsets,
    /** Gives the gate back (after `finish`, or on a failure). */
    close(): void {
      release?.();
      release = undefined;
    },
  };
}

type OpSink = ReturnType<typeof createOpSink>;

export interface BatchOutcome {
  applied: number;
  duplicates: number;
  alreadyApplied: number;
  documents: number;
  /** the newest event time applied, per `topic:partition` */
  newestByField: Map<string, number>;
  /** per `topic:partition` and account: how many of the events handed in were consumed (applied or skipped), from the first */
  consumed: Map<string, Map<string, number>>;
  /**
   * per account that committed: its applied offset of each partition it committed on. Once the
   * call's writes are done, every event of the account up to these offsets is written.
   */
  accountOffsets: Map<string, Map<string, bigint>>;
  /** per account: the work its plans took (distinct users reached plus events) */
  work: Map<string, number>;
}

/** What one account's commits of one partition applied. */
interface Counted {
  applied: number;
  duplicates: number;
  newestMs: number;
  /** fresh events consumed */
  consumed: number;
  work: number;
}

/**
 * Plans and commits the events in commits of bounded work (a role change that reaches thousands
 * of users must not hold the event loop, heartbeats, the API of an embedded projector, for
 * seconds). Returns the writes of each commit, or null when another projector wrote the account
 * since it was read (what was committed before is in the account's outbox).
 */
/** One increment per event type, not per event: prom-client hashes the labels on every call. */
function countApplied(metrics: NonNullable<BatchDeps['metrics']>, applied: readonly { type: string }[]): void {
  const byType = new Map<string, number>();
  for (const e of applied) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  for (const [type, n] of byType) metrics.eventsApplied.inc({ type }, n);
}

async function commitInPieces(
  deps: BatchDeps,
  pace: () => Promise<void>,
  account: CachedAccount,
  source: PartitionRef & { accountId: string },
  events: readonly PositionedEvent[],
  counted: Counted,
  sink: OpSink,
): Promise<AccountWrites[] | null> {
  const field = `${source.topic}:${source.partition}`;
  const writes: AccountWrites[] = [];
  let fresh = events;
  for (let pieces = 0; fresh.length > 0 && pieces < (deps.maxPieces ?? Infinity); pieces++) {
    const maxWork = Math.min(deps.workPerCommit ?? WORK_PER_COMMIT, Math.max(1, deps.budget?.left ?? Infinity));
    const plan = await planBatchPaced(account.state, account.raw, { ...source, version: account.version + 1 }, fresh, deps.windowMs, maxWork, pace);
    if (deps.budget) deps.budget.left -= plan.work;
    counted.work += plan.work;
    // Each record is serialized once: the same JSON goes into the Redis outbox and to _bulk.
    const intervalJson = new Map<string, string>();
    for (const [id, record] of plan.intervals) intervalJson.set(id, JSON.stringify(record));
    const users = [...plan.docs.keys()];
    const version = await deps.store.commit({
      accountId: source.accountId,
      expectedVersion: account.version,
      partition: field,
      lastOffset: plan.lastOffset,
      changes: plan.changes,
      seen: plan.seen,
      newestMs: plan.newestMs,
      pruneBeforeMs: plan.pruneBeforeMs,
      counterDeltas: plan.counterDeltas,
      dirtyUsers: users,
      intervalJson,
      rawChanges: plan.rawChanges,
    });
    if (version === null) return null;
    account.version = version;
    account.offsets.set(field, plan.lastOffset);
    for (const userId of users) account.dirty.set(userId, version);
    for (const [id, json] of intervalJson) account.intervalOutbox.set(id, { version, json });
    if (deps.metrics) countApplied(deps.metrics, plan.applied);
    counted.applied += plan.applied.length;
    counted.duplicates += plan.duplicates;
    counted.newestMs = Math.max(counted.newestMs, plan.newestMs);
    const indices = deps.indices();
    writes.push({ accountId: source.accountId, account, recovery: false, version, users, intervalIds: [...plan.intervals.keys()] });
    const userOps = await docOps(pace, users, (u) => docOp(indices.users, source.accountId, u, plan.docs.get(u) ?? null, version));
    await sink.add([...userOps, ...[...intervalJson].map(([id, json]): DocOp => ({ op: 'index', index: indices.facts, id, version, doc: json }))]);
    fresh = fresh.slice(plan.consumed);
    counted.consumed += plan.consumed;
    if (fresh.length > 0) await pace();
  }
  return writes;
}

/** Applies one account's events from one partition, under the account's lock. */
async function projectAccount(
  deps: BatchDeps,
  pace: () => Promise<void>,
  source: PartitionRef,
  accountId: string,
  events: readonly PositionedEvent[],
  outcome: BatchOutcome,
  sink: OpSink,
  stamps: Map<string, string>,
): Promise<AccountWrites[]> {
  const field = `${source.topic}:${source.partition}`;
  for (;;) {
    // Before the object is got: a failure that drops it after this shows (see projectBatch).
    if (!stamps.has(accountId)) stamps.set(accountId, deps.cache.stamp(accountId));
    const account = await deps.cache.get(accountId);
    try {
      const recovery = await recoveryWrites(deps, pace, accountId, account);
      if (recovery) await sink.add(recovery.ops);
      const appliedUpTo = account.offsets.get(field) ?? -1n;
      const fresh = events.filter((e) => e.offset > appliedUpTo);
      const counted: Counted = { applied: 0, duplicates: 0, newestMs: 0, consumed: 0, work: 0 };
      const committed = await commitInPieces(deps, pace, account, { ...source, accountId }, fresh, counted, sink);
      if (committed === null) {
        // Another projector wrote this account since we read it: read it again and redo. What this
        // call committed before the conflict is in the reloaded account's outbox.
        deps.logger.info({ accountId, field }, 'account changed elsewhere; reloading');
        deps.cache.invalidate(accountId);
        continue;
      }
      outcome.applied += counted.applied;
      outcome.duplicates += counted.duplicates;
      outcome.alreadyApplied += events.length - fresh.length;
      outcome.newestByField.set(field, Math.max(outcome.newestByField.get(field) ?? 0, counted.newestMs));
      outcome.work.set(accountId, (outcome.work.get(accountId) ?? 0) + counted.work);
      const consumed = outcome.consumed.get(field) ?? new Map<string, number>();
      outcome.consumed.set(field, consumed.set(accountId, events.length - fresh.length + counted.consumed));
      if (counted.consumed > 0) {
        const offsets = outcome.accountOffsets.get(accountId) ?? new Map<string, bigint>();
        outcome.accountOffsets.set(accountId, offsets.set(field, account.offsets.get(field)!));
      }
      return recovery ? [recovery.writes, ...committed] : committed;
    } catch (error) {
      // The in-memory state may be ahead of Redis now: forget it.
      deps.cache.invalidate(accountId);
      throw error;
    }
  }
}

/**
 * The outbox entries of written commits go: documents at once, fact intervals once a refresh shows
 * them, since the readers take from the outbox what the index does not show yet (decision 47).
 */
async function clearWritten(deps: BatchDeps, writes: readonly AccountWrites[]): Promise<void> {
  const later = deps.onIntervalsWritten;
  await deps.store.clearOutboxes(writes.map((w) => ({ accountId: w.accountId, version: w.version, userIds: w.users, intervalIds: later ? [] : w.intervalIds })));
  const intervals = writes.filter((w) => w.intervalIds.length > 0);
  if (later && intervals.length > 0) later(intervals.map((w) => ({ accountId: w.accountId, version: w.version, userIds: [], intervalIds: w.intervalIds })));
}

/** The call's accounts named with their partitions (decision 59: the partition's projector lifts their marks). */
function accountPartitions(parts: readonly BatchPart[]): (accountIds: Iterable<string>) => AccountPartitions {
  const partitions = new Map(parts.flatMap(({ source, byAccount }) => [...byAccount.keys()].map((accountId) => [accountId, source.partition] as const)));
  return (accountIds) => new Map([...accountIds].map((accountId) => [accountId, partitions.get(accountId) ?? -1]));
}

/**
 * A call failed: its commits stand but their documents may not be written, so the retry must not
 * skip them as already applied. Dropping the accounts makes the retry reload them, outbox included,
 * and write the outbox first; dropped even when another object of the account is cached now (a
 * round that loaded it again after this one committed may have written its outbox already, and
 * the accounts torn here are whole again only once a load after this failure has written it). Part
 * of the call may be written (an early write under the held gate): its accounts are torn before the
 * gate is given up (decision 59).
 */
function dropAfterFailure(deps: BatchDeps, sink: OpSink, dropped: AccountPartitions): void {
  if (sink.holding()) deps.torn?.broke(dropped);
  deps.onDropped?.(dropped);
  sink.close();
  for (const accountId of dropped.keys()) deps.cache.invalidate(accountId);
}

function emptyOutcome(): BatchOutcome {
  return { applied: 0, duplicates: 0, alreadyApplied: 0, documents: 0, newestByField: new Map(), consumed: new Map(), accountOffsets: new Map(), work: new Map() };
}

/**
 * Projects the parts' events (per partition, grouped by account, each group in partition order) and
 * writes the changed documents of them all. Throws on an outage; calling again with the same events
 * is safe. An account in several parts is projected part after part, under its lock.
 */
export async function projectBatch(deps: BatchDeps, parts: readonly BatchPart[]): Promise<BatchOutcome> {
  const outcome = emptyOutcome();
  // A few accounts in flight at once: one account's Redis commit overlaps the next one's planning
  // (a batch of a trickle touches many accounts with a few events each, and their round trips one
  // after the other were most of its time). Each worker yields between accounts: planning is CPU
  // work, and one batch of many accounts must not hold the event loop (heartbeats, I/O).
  const writes: AccountWrites[] = [];
  /** per account, the cache's stamp before the call first got it */
  const stamps = new Map<string, string>();
  const pace = createPacer(deps.heartbeat);
  const tearing = accountPartitions(parts);
  const failedAccounts: string[] = [];
  // The accounts whose commits the writes carry: all are committed once the last write is made.
  const sink = createOpSink(deps, pace, deps.maxHeldOps ?? MAX_HELD_OPS, () => tearing(writes.map((w) => w.accountId)));
  // Accounts with fewer events first: a small account's change is committed (its summary current)
  // before a neighbour's fan-out is planned. (An account's parts may then go in any order: the
  // rules hold under any order across topics.)
  const queue = parts
    .flatMap(({ source, byAccount }) => [...byAccount].map(([accountId, events]) => ({ source, accountId, events })))
    .sort((a, b) => a.events.length - b.events.length);
  let failed = false;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined && !failed; next = queue.shift()) {
      const { source, accountId, events } = next;
      await pace();
      try {
        writes.push(...(await deps.cache.withLock(accountId, () => projectAccount(deps, pace, source, accountId, events, outcome, sink, stamps))));
      } catch (error) {
        failedAccounts.push(accountId);
        if (!failed) failure = error;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ACCOUNTS_IN_FLIGHT, queue.length) }, worker));
  try {
    // The accounts committed before another one failed have writes that were never made: they are
    // dropped below like on a failed write, so that the retry reloads them and writes their outbox.
    if (failed) throw failure;
    // Inside the try: when it fails, the accounts are dropped like on a failed write, so that the
    // retry writes their outbox (their events count as applied from now on).
    await deps.onCommitted?.(outcome);
    // The count is set before onWritten, which is handed the whole outcome.
    await sink.finish((written) => {
      outcome.documents = written;
      // Inside the gate, before any later round of them writes: their outbox is written (decision 59).
      deps.torn?.recovered(writes.flatMap((w) => (w.recovery ? [w.accountId] : [])));
      // An account's own offsets say every commit of it up to them is written. Its earlier rounds
      // have ended (turn.prior); one whose write failed after committing dropped the account from
      // the cache, which changed its stamp: then the commits that object carried may be in the
      // outbox only, and the account waits for its partitions' positions (or a later round's
      // recovery write) instead.
      for (const accountId of [...outcome.accountOffsets.keys()]) if (deps.cache.stamp(accountId) !== stamps.get(accountId)) outcome.accountOffsets.delete(accountId);
      deps.onWritten?.(outcome);
    });
    sink.close();
    await deps.afterWrite?.(sink.versionOffsets());
    await clearWritten(deps, writes);
    for (const w of writes) {
      // Only the very account object the writes came from learns about them: a reloaded one read
      // its outbox from Redis, which is already up to date.
      if (deps.cache.peek(w.accountId) !== w.account) continue;
      for (const u of w.users) if ((w.account.dirty.get(u) ?? Infinity) <= w.version) w.account.dirty.delete(u);
      for (const id of w.intervalIds) if ((w.account.intervalOutbox.get(id)?.version ?? Infinity) <= w.version) w.account.intervalOutbox.delete(id);
      if (w.recovery) w.account.recovered = true;
    }
  } catch (error) {
    dropAfterFailure(deps, sink, tearing([...writes.map((w) => w.accountId), ...failedAccounts]));
    throw error;
  }
  if (outcome.duplicates > 0) deps.metrics?.eventsSkipped.inc({ reason: 'duplicate_id' }, outcome.duplicates);
  if (outcome.alreadyApplied > 0) deps.metrics?.eventsSkipped.inc({ reason: 'already_applied' }, outcome.alreadyApplied);
  return outcome;
}
