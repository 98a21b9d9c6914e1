/**
 * Searchable positions. A batch's documents are durable once the bulk request returns, but visible
 * to searches only after a refresh. This publisher refreshes the index on a short tick when there
 * is something new, then raises the published positions: a position promises "searchable". The
 * tick stretches while refreshes are slow, so that refreshing never takes more than half the time.
 */
import type { Client } from '@opensearch-project/opensearch';
import { checkpointOps, indexBehind, publishedGuard } from '../integrity/checkpoints.ts';
import { IntegrityFault } from '../integrity/fault.ts';
import type { Logger } from '../logger.ts';
import { writeDocs } from '../opensearch/bulk-writer.ts';
import type { Metrics } from '../metrics.ts';
import type { AccountStatePort, OutboxClear } from '../ports/account-state.ts';
import { sleep } from '../retry.ts';
import type { TornAccounts } from './torn-accounts.ts';
import type { WriteGate } from './write-gate.ts';
import { refreshIndices } from '../opensearch/indices.ts';

/** The publish step that waits for the writes before it (the projector's stall report does not count it as stuck). */
export const GATE_WAIT = 'waiting for the write gate (after reading what is pending)';

export interface PositionPublisherOptions {
  opensearch: Client;
  index: () => string;
  store: AccountStatePort;
  intervalMs: number;
  logger: Logger;
  metrics?: Metrics;
  now?: () => number;
  /** told after each publish attempt whether it worked */
  onHealth?: (ok: boolean) => void;
  /**
   * The indices that get a checkpoint per partition before each refresh (src/integrity/
   * checkpoints.ts), and whether they are write aliases that must exist.
   */
  checkpoints?: { indices: () => string[]; requireAlias: boolean };
  /** serializes the snapshot, checkpoints and refresh with the projector's bulk streams */
  gate?: Pick<WriteGate, 'refresh'>;
  /** the accounts a refresh may show part-written: marked with its start, lifted with its end (decision 59) */
  torn?: Pick<TornAccounts, 'atRefresh' | 'marked' | 'lifted' | 'due' | 'discard' | 'idleBroken' | 'recovered'>;
  /** told when an index holds less than was published (nothing more is published then) */
  onFault?: (fault: IntegrityFault) => void;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createPositionPublisher(options: PositionPublisherOptions) {
  const { opensearch, store, intervalMs, logger, metrics } = options;
  const now = options.now ?? Date.now;
  let pending = new Map<string, { offset: bigint; newestMs: number }>();
  /** accounts' own positions written since the last refresh (decision 34) */
  let pendingAccounts = new Map<string, Map<string, bigint>>();
  /**
   * fact intervals written since the last refresh: they leave the Redis outbox only once a refresh
   * shows them, since the readers take from the outbox what the index does not show yet (decision 47)
   */
  let pendingIntervals: OutboxClear[] = [];
  /** when the oldest write not yet published was marked (for the publish stage's metric) */
  let oldestMarkMs: number | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let waiters: (() => void)[] = [];
  /**
   * Counts discards: a publish whose snapshot was taken before the last discard neither publishes
   * it nor puts it back (what it records may have been undone meanwhile).
   */
  let era = 0;
  /** publishes made (the projector's progress watch counts them as steps) */
  let publishes = 0;
  /** the step of the publish under way, and when it began (for the projector's stall report) */
  let stage: { what: string; since: number } | undefined;
  const enter = (what: string) => void (stage = { what, since: now() });

  /**
   * Before new checkpoints are written: every index still holds the ones already published, the
   * partitions' and the sealed refresh number (an index restored from an older snapshot would
   * otherwise get fresh checkpoints over its missing writes, and no check could see it any more).
   * Throws an IntegrityFault (index_behind).
   */
  async function requireIndicesCurrent(indices: readonly string[], fields: readonly string[]): Promise<void> {
    const [all, sealed] = await Promise.all([store.positions(), store.sealedRefresh()]);
    const published = publishedGuard(new Map(fields.filter((f) => all.has(f)).map((f) => [f, all.get(f)!])), sealed);
    // Every index answers before a failure counts: an unreachable index must not hide another's hole.
    const checked = await Promise.allSettled(indices.map((index) => indexBehind(opensearch, index, published)));
    const [reason] = checked.flatMap((r) => (r.status === 'fulfilled' && r.value !== undefined ? [r.value] : []));
    if (reason) throw new IntegrityFault('index_behind', reason);
    for (const r of checked) if (r.status === 'rejected') throw r.reason;
  }

  /** Whether writes are marked and not yet published (positions, accounts' positions or fact intervals). */
  function anyPending(): boolean {
    return pending.size > 0 || pendingAccounts.size > 0 || pendingIntervals.length > 0;
  }

  /** Whether a publish has something to do: writes to publish, or a mark due to be lifted. */
  function due(): boolean {
    return anyPending() || (options.torn?.due() ?? false);
  }

  function markAccounts(accounts: ReadonlyMap<string, ReadonlyMap<string, bigint>>): void {
    oldestMarkMs ??= now();
    for (const [accountId, offsets] of accounts) {
      const cur = pendingAccounts.get(accountId) ?? new Map<string, bigint>();
      pendingAccounts.set(accountId, cur);
      for (const [field, offset] of offsets) if ((cur.get(field) ?? -1n) < offset) cur.set(field, offset);
    }
  }

  /**
   * An account a failed write left torn is whole once Redis holds none of its outbox (whichever round
   * wrote it); then its mark is due to be lifted (decision 59).
   */
  async function mendBroken(): Promise<void> {
    const broken = options.torn?.idleBroken() ?? [];
    if (broken.length === 0) return;
    const dirty = await store.dirtyAmong(broken);
    options.torn!.recovered(broken.filter((accountId) => !dirty.has(accountId)));
  }

  /** The accounts part-written now are marked with the refresh's number; returns it and the marks this refresh lifts. */
  async function beginRefresh(): Promise<{ refresh: number; lift: string[] }> {
    const torn = options.torn?.atRefresh();
    // A failure here may come after Redis ran the step (a lost reply): the marks are set again next time.
    const refresh = await store.beginRefresh(torn?.mark).catch((error: unknown) => {
      options.torn?.discard();
      throw error;
    });
    if (!torn) return { refresh, lift: [] };
    options.torn!.marked(torn);
    if (torn.mark.size > 0) metrics?.tornMarks.inc(torn.mark.size);
    return { refresh, lift: torn.lift };
  }

  /**
   * beginRefresh, and before checkpoints are written requireIndicesCurrent for `fields`: the two go
   * out at once (neither reads what the other writes), so the gate is held for one wait instead of
   * two. A fault the check finds counts before the step's failure: it stops the publisher.
   */
  async function beginCheckedRefresh(fields: readonly string[]): Promise<{ refresh: number; lift: string[] }> {
    const [begun, checked] = await Promise.allSettled([beginRefresh(), options.checkpoints ? requireIndicesCurrent(options.checkpoints.indices(), fields) : undefined]);
    if (checked.status === 'rejected' && checked.reason instanceof IntegrityFault) throw checked.reason;
    if (begun.status === 'rejected') throw begun.reason;
    if (checked.status === 'rejected') throw checked.reason;
    return begun.value;
  }

  /** Publishes what is pending; returns how long it took once it had the gate (ms), 0 when nothing was pending. */
  async function publishPending(): Promise<number> {
    await mendBroken();
    if (!due()) return 0;
    let gotGate = 0;
    let snapshot = new Map<string, { offset: bigint; newestMs: number }>();
    let markedMs: number | undefined;
    /** the snapshot's offsets: checkpointed, then published */
    let offsets = new Map<string, bigint>();
    let accounts = new Map<string, Map<string, bigint>>();
    let intervals: OutboxClear[] = [];
    let refresh = 0;
    /** the marked accounts this refresh shows whole */
    let lift: string[] = [];
    let snapshotEra = era;
    /** false once a discard came after the snapshot: nothing of it is published or put back */
    const current = () => era === snapshotEra;
    try {
      // Under the gate, no bulk is in flight: the refresh shows the marked writes, and of the rounds
      // written in several turns, part of those under way, whose accounts it marks (decision 59).
      await (options.gate ?? { refresh: (fn: () => Promise<void>) => fn() }).refresh(async () => {
        gotGate = now();
        enter('checkpoints and refresh');
        snapshotEra = era;
        snapshot = pending;
        pending = new Map();
        markedMs = oldestMarkMs;
        oldestMarkMs = undefined;
        offsets = new Map([...snapshot].map(([k, v]) => [k, v.offset]));
        accounts = pendingAccounts;
        pendingAccounts = new Map();
        intervals = pendingIntervals;
        pendingIntervals = [];
        ({ refresh, lift } = await beginCheckedRefresh([...snapshot.keys()]));
        if (options.checkpoints) {
          // The partitions' checkpoints at their positions, and this refresh's number, which vouches
          // for the accounts' own positions too (decision 35).
          const ops = checkpointOps(options.checkpoints.indices(), publishedGuard(offsets, refresh));
          await writeDocs(opensearch, ops, options.checkpoints.requireAlias ? { requireAlias: true } : {});
        }
        await refreshIndices(opensearch, options.index());
      });
      // Sealed before any position of this refresh is published: a reader that reads a position and
      // then the sealed number compares the index with a refresh at or past the one that published it.
      enter('sealing and raising the positions');
      if (options.checkpoints) await store.sealRefresh(refresh);
      // A discard since the snapshot (a rollback repair lowers the positions next, on the same
      // connection): raising them now would vouch for writes the repair undoes. Checked right
      // before each command is sent, so a raise sent is one Redis runs before the repair's.
      if (current()) await Promise.all([store.raisePositions(offsets), store.raiseAccountPositions(accounts)]);
      await store.endRefresh(refresh, lift).catch((error: unknown) => {
        // The lifts may have run (a lost reply): what is marked is set again next time.
        options.torn?.discard();
        throw error;
      });
      options.torn?.lifted(lift);
      if (intervals.length > 0 && current()) await store.clearOutboxes(intervals);
      const at = now();
      for (const { newestMs } of snapshot.values()) if (newestMs > 0) metrics?.freshnessSeconds.observe(Math.max(0, at - newestMs) / 1000);
      if (markedMs !== undefined) metrics?.roundStageSeconds.observe({ stage: 'publish' }, (now() - markedMs) / 1000);
      publishes += 1;
      return at - gotGate;
    } catch (error) {
      if (!current()) throw error;
      for (const [field, v] of snapshot) {
        const cur = pending.get(field);
        if (!cur || cur.offset < v.offset) pending.set(field, v);
      }
      markAccounts(accounts);
      pendingIntervals = intervals.concat(pendingIntervals);
      if (markedMs !== undefined) oldestMarkMs = Math.min(oldestMarkMs ?? Infinity, markedMs);
      throw error;
    }
  }

  /** publishPending, with its step known while it runs */
  async function publishOnce(): Promise<number> {
    enter(GATE_WAIT);
    try {
      return await publishPending();
    } finally {
      stage = undefined;
    }
  }

  return {
    /** publishes made so far */
    published: () => publishes,
    /** Whether writes wait to be published, and the step of the publish under way (for the projector's stall report). */
    status(): { pending: boolean; step?: string; stepMs?: number } {
      return { pending: due(), ...(stage ? { step: stage.what, stepMs: Math.round(now() - stage.since) } : {}) };
    },
    /** Records that everything up to `offset` of `<topic>:<partition>` is written (not yet searchable). */
    mark(field: string, offset: bigint, newestMs: number): void {
      oldestMarkMs ??= now();
      const cur = pending.get(field);
      if (!cur || cur.offset < offset) pending.set(field, { offset, newestMs: Math.max(newestMs, cur?.newestMs ?? 0) });
      for (const wake of waiters) wake();
      waiters = [];
    },
    /**
     * Records that each account's events up to its offsets are written (its own position, ahead of
     * its partitions' while other accounts of them are unfinished).
     */
    markAccounts(accounts: ReadonlyMap<string, ReadonlyMap<string, bigint>>): void {
      markAccounts(accounts);
      for (const wake of waiters) wake();
      waiters = [];
    },
    /**
     * Records that these fact intervals are written (not yet searchable): they leave the outbox
     * after the next refresh. Marked after the write returned, so any refresh that starts later shows it.
     */
    markIntervals(written: readonly OutboxClear[]): void {
      for (const w of written) pendingIntervals.push(w);
      for (const wake of waiters) wake();
      waiters = [];
    },
    start(): void {
      loop = (async () => {
        while (!stopped) {
          if (!anyPending())
            await new Promise<void>((resolve) => {
              // A wait that times out leaves the waiters: only a mark empties them, and an idle
              // publisher would otherwise gather one per tick, five a second, for as long as it idles.
              const timer = setTimeout(() => {
                waiters = waiters.filter((w) => w !== wake);
                resolve();
              }, intervalMs);
              const wake = () => {
                clearTimeout(timer);
                resolve();
              };
              waiters.push(wake);
            });
          const started = now();
          let took = 0;
          try {
            took = await publishOnce();
            options.onHealth?.(true);
          } catch (error) {
            // A failed publish (OpenSearch or Redis out) is paced by all it took, as before.
            took = now() - started;
            if (error instanceof IntegrityFault) {
              options.onFault?.(error);
              return;
            }
            options.onHealth?.(false);
            logger.warn({ err: error }, 'publishing positions failed; will retry');
          }
          // The next publish starts `intervalMs` after this one, or twice as long after as this one
          // took once it had the gate: a refresh under heavy writes takes hundreds of ms, and
          // back-to-back refreshes took CPU from the writes they were waiting for (refresh in flight
          // 80 % of the time). The wait for the gate is not counted: it is the writes' time, and
          // counting it doubled the time from a write to its publish (decision 36).
          await sleep(Math.max(intervalMs, 2 * took) - took);
        }
      })();
    },
    /**
     * Forgets what is pending: the writes it records may be undone (Redis reconnected and may have
     * come back older; a rollback repair rewrites OpenSearch). The next batches mark again. A
     * publish under way publishes none of its snapshot after this, and puts none of it back if it fails.
     */
    discard(): void {
      era += 1;
      options.torn?.discard();
      oldestMarkMs = undefined;
      pending = new Map();
      pendingAccounts = new Map();
      // Left in the outbox (Redis may have come back older): a later load of the account writes them again.
      pendingIntervals = [];
    },
    /** Publishes what is pending now (used at shutdown). */
    async flush(): Promise<void> {
      await publishOnce();
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const wake of waiters) wake();
      waiters = [];
      await loop;
      await publishOnce().catch((error) => logger.warn({ err: error }, 'last position publish failed'));
    },
  };
}

export type PositionPublisher = ReturnType<typeof createPositionPublisher>;
