/**
 * projectBatch's crash, fence and outbox rules on the ports' in-memory twins (no server): whatever
 * step a crash hits (before or after any store or document call), a retry by the same process or
 * by a restarted one ends exactly where a run without crashes ends: the same user documents (the
 * core's), the same fact intervals, counters and applied positions, and no outbox left. The same
 * rules against real Redis and OpenSearch, with processes killed: test/integration/projector-faults.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEDUPE_WINDOW_MS, type FactEvent, allDocs, countersFromDocs, emptyAccount, step } from '../../projections/index.ts';
import { AppError } from '../../src/errors.ts';
import { silentLogger } from '../../src/logger.ts';
import { toIndexedUser, userDocId } from '../../src/opensearch/user-document.ts';
import type { AccountStatePort } from '../../src/ports/account-state.ts';
import type { DocumentsPort } from '../../src/ports/documents.ts';
import { createAccountCache } from '../../src/projector/account-cache.ts';
import { type Raise, type Round, createLanes } from '../../src/projector/lanes.ts';
import type { PositionedEvent } from '../../src/projector/plan-batch.ts';
import { type BatchDeps, type BatchPart, projectBatch } from '../../src/projector/project-batch.ts';
import { type TornAccounts, createTornAccounts } from '../../src/projector/torn-accounts.ts';
import { type WriteGate, createWriteGate } from '../../src/projector/write-gate.ts';
import { createWriteGroup } from '../../src/projector/write-group.ts';
import { type WriteTurn, createWriteOrder } from '../../src/projector/write-order.ts';
import { type AccountStateTwin, createAccountStateTwin } from '../../src/twins/account-state.ts';
import { type DocumentsTwin, createDocumentsTwin } from '../../src/twins/documents.ts';
import { type Routed, historyArb } from '../support/arbitraries.ts';
import { type CrashMode, type CrashPlan, crashPlan, withCrashes } from '../support/port-faults.ts';

const W = DEFAULT_DEDUPE_WINDOW_MS;
const INDICES = { users: 'users', facts: 'facts' };
const STORE_CALLS = ['load', 'commit', 'clearOutboxes', 'raiseApplied', 'dirtyAccounts'] as const;

/** One fetch: a part per topic (one partition each), with the offsets Kafka would give them. */
type Group = BatchPart[];

/** Splits a history into fetches of the given sizes; each topic's offsets run on across fetches. */
function fetches(history: readonly Routed[], sizes: readonly number[]): Group[] {
  const next = new Map<string, bigint>();
  const groups: Group[] = [];
  let at = 0;
  for (let i = 0; at < history.length; i++) {
    const size = Math.max(1, sizes[i % Math.max(sizes.length, 1)] ?? 1);
    const parts = new Map<string, Map<string, PositionedEvent[]>>();
    for (const r of history.slice(at, at + size)) {
      const offset = next.get(r.topic) ?? 0n;
      next.set(r.topic, offset + 1n);
      const byAccount = parts.get(r.topic) ?? new Map<string, PositionedEvent[]>();
      parts.set(r.topic, byAccount);
      byAccount.set(r.account, [...(byAccount.get(r.account) ?? []), { event: r.event, offset }]);
    }
    groups.push([...parts].map(([topic, byAccount]) => ({ source: { topic, partition: 0 }, byAccount })));
    at += size;
  }
  return groups;
}

/** The order projectBatch applies a group in, per account: part after part. */
function appliedOrder(groups: readonly Group[]): Map<string, FactEvent[]> {
  const out = new Map<string, FactEvent[]>();
  for (const parts of groups)
    for (const { byAccount } of parts) for (const [account, events] of byAccount) out.set(account, [...(out.get(account) ?? []), ...events.map((e) => e.event)]);
  return out;
}

interface Stores {
  state: AccountStateTwin;
  docs: DocumentsTwin;
}

function emptyStores(fence?: () => void): Stores {
  const docs = createDocumentsTwin();
  docs.createIndex(INDICES.users);
  docs.createIndex(INDICES.facts);
  return { state: createAccountStateTwin(fence ? { fence } : {}), docs };
}

/** A projector process over the stores: its own account cache, the ports as it sees them. */
function processOver(store: AccountStatePort, documents: DocumentsPort, over: Partial<BatchDeps> = {}, budgetBytes?: number, serveOrder?: () => Iterable<string>) {
  const gate = createWriteGate();
  const cache = createAccountCache(store, W, { ...(budgetBytes === undefined ? {} : { budgetBytes }), ...(serveOrder ? { serveOrder } : {}) });
  const deps = (parts: Group): BatchDeps => ({
    store,
    cache,
    documents,
    indices: () => INDICES,
    windowMs: W,
    logger: silentLogger(),
    workPerCommit: 7,
    gate,
    onCommitted: () => store.raiseApplied(new Map(parts.map((p) => [`${p.source.topic}:0`, range(p)]))),
    ...over,
  });
  return {
    cache,
    gate,
    deps,
    project: (parts: Group) => projectBatch(deps(parts), parts),
    /** What the projector does on start and on every assignment: write what a crash left in any outbox. */
    async recover(): Promise<void> {
      for (const accountId of await store.dirtyAccounts()) await projectBatch(deps([]), [{ source: { topic: '', partition: -1 }, byAccount: new Map([[accountId, []]]) }]);
    },
  };
}

function range(part: BatchPart): { from: bigint; to: bigint } {
  const offsets = [...part.byAccount.values()].flat().map((e) => e.offset);
  return { from: offsets.reduce((a, b) => (a < b ? a : b)), to: offsets.reduce((a, b) => (a > b ? a : b)) };
}

/**
 * Everything a report, a history or a restart reads, as the stores hold it. Not the versions, nor
 * the fact intervals' `seq` (the order of application within the account): after a crash the
 * partitions of one fetch may be applied to an account in another order, as Kafka may deliver them.
 */
async function held(stores: Stores, accounts: Iterable<string>) {
  const counters: Record<string, Record<string, number>> = {};
  for (const account of accounts) counters[account] = Object.fromEntries([...(await stores.state.counters(account))].sort());
  const withoutSeq = (key: string, value: unknown) => (key === 'seq' ? undefined : value);
  return {
    users: Object.fromEntries([...stores.docs.all(INDICES.users)].map(([id, d]) => [id, d.source]).sort()),
    facts: Object.fromEntries([...stores.docs.all(INDICES.facts)].map(([id, d]) => [id, JSON.parse(JSON.stringify(d.source, withoutSeq)) as unknown]).sort()),
    counters,
    applied: Object.fromEntries(await stores.state.applied()),
    dirtyAccounts: await stores.state.dirtyAccounts(),
  };
}

/** The pure core's documents and counters, replayed in the order the batches apply the events. */
function coreView(groups: readonly Group[]) {
  const users: Record<string, unknown> = {};
  const counters: Record<string, Record<string, number>> = {};
  for (const [account, events] of appliedOrder(groups)) {
    const state = emptyAccount();
    for (const e of events) step(state, e, W);
    const docs = [...allDocs(state.facts).values()];
    for (const d of docs) users[userDocId(account, d.user_id)] = toIndexedUser(account, d);
    counters[account] = Object.fromEntries([...countersFromDocs(docs)].filter(([, n]) => n !== 0).sort());
  }
  return { users: Object.fromEntries(Object.entries(users).sort()), counters };
}

const accountsOf = (groups: readonly Group[]) => [...appliedOrder(groups).keys()];

/** A clean run: every group projected once, no crash. */
async function cleanRun(groups: readonly Group[]) {
  const stores = emptyStores();
  const p = processOver(stores.state, stores.docs);
  for (const g of groups) await p.project(g);
  return held(stores, accountsOf(groups));
}

/**
 * A run with crashes at the plan's steps: each failed group is tried again, by the same process
 * (a retry after an outage) or, when `restart` says so, by a new one that first recovers the
 * outboxes, as the projector does on start.
 */
async function crashingRun(groups: readonly Group[], plan: CrashPlan, restart: (attempt: number) => boolean, budgetBytes?: number, maxHeldOps?: number) {
  const stores = emptyStores();
  const store = withCrashes(stores.state, plan, STORE_CALLS);
  const documents = withCrashes(stores.docs, plan, ['write']);
  const over = maxHeldOps === undefined ? {} : { maxHeldOps };
  let p = processOver(store, documents, over, budgetBytes);
  let attempts = 0;
  for (const g of groups)
    for (;;) {
      try {
        await p.project(g);
        break;
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        attempts += 1;
        if (attempts > 50) throw new Error('no progress after 50 attempts');
        if (restart(attempts)) {
          p = processOver(store, documents, over, budgetBytes);
          await p.recover().catch(() => undefined);
        }
      }
    }
  return held(stores, accountsOf(groups));
}

/**
 * The projector's way since decision 34: each fetch's events go to the lanes, and rounds of at most
 * `roundEvents` events, one commit per account and partition each, are projected while fetches keep
 * arriving (`roundsBetween` rounds after each fetch); each round raises the partitions' finished
 * prefixes. Ends once the lanes are empty.
 */
async function laneRun(groups: readonly Group[], roundEvents: number, roundsBetween: readonly number[], inFlight = 1, budgetBytes?: number) {
  const stores = emptyStores();
  const lanes = createLanes({ maxQueued: 1_000_000, roundEvents });
  // The cache as the projector wires it: it drops what the lanes serve last first.
  const p = processOver(stores.state, stores.docs, {}, budgetBytes, () => lanes.serveOrder());
  for (const topic of new Set(groups.flatMap((g) => g.map((part) => part.source.topic)))) lanes.reset(`${topic}:0`, 0n);
  let rounds = 0;
  const project = async (next: NonNullable<ReturnType<typeof lanes.take>>): Promise<void> => {
    let raises = new Map<string, Raise>();
    const outcome = await projectBatch(
      {
        ...p.deps(next.parts),
        maxPieces: 1,
        budget: { left: 6 },
        onCommitted: async (committed) => {
          raises = lanes.raises(next, committed.consumed);
          await stores.state.raiseApplied(raises);
        },
      },
      next.parts,
    );
    lanes.settle(next, outcome.consumed, raises);
    await expectPrefixesApplied(stores, groups);
  };
  /** Up to `inFlight` rounds over disjoint accounts at once (as the projector runs them); false when there was nothing to take. */
  const round = async (): Promise<boolean> => {
    const taken: NonNullable<ReturnType<typeof lanes.take>>[] = [];
    const busy = new Set<string>();
    for (let n = 0; n < inFlight; n++) {
      const next = lanes.take(busy);
      if (!next) break;
      taken.push(next);
      for (const part of next.parts) for (const account of part.byAccount.keys()) busy.add(account);
    }
    if (taken.length === 0) return false;
    await Promise.all(taken.map(project));
    rounds += 1;
    if (rounds > 10_000) throw new Error('the lanes do not drain');
    return true;
  };
  for (const [i, g] of groups.entries()) {
    for (const part of g) {
      const events = [...part.byAccount].flatMap(([accountId, list]) => list.map((event) => ({ accountId, event }))).sort((a, b) => Number(a.event.offset - b.event.offset));
      const { from, to } = range(part);
      lanes.add(`${part.source.topic}:0`, { firstOffset: from, last: to, highWatermark: to + 1n, events });
    }
    for (let n = 0; n < roundsBetween[i % roundsBetween.length]!; n++) if (!(await round())) break;
  }
  while (await round());
  expect(lanes.queued()).toBe(0);
  return held(stores, accountsOf(groups));
}

/** A commit the store took: what it changed, at which version. */
interface CommitSeen {
  accountId: string;
  field: string;
  lastOffset: bigint;
  version: number;
  users: string[];
  intervalIds: string[];
}

/**
 * The projector's way since decision 37: a round lets its accounts go once it has committed them,
 * so an account's next round commits while the previous one still writes (writes delayed at
 * random, so rounds end in any order); a round writes only after the earlier rounds of its
 * accounts ended (the write order). Crashes at the plan's steps fail a round's attempt: it is
 * tried again (an outage) or, when `giveUp` says so, given back to the lanes (a failure for good).
 * At every write, each account offset the round claims (its own searchable position) must cover
 * written commits only: every document and interval they changed holds their version or a later one.
 */
async function overlappingLaneRun(
  groups: readonly Group[],
  options: {
    roundEvents: number;
    roundsBetween: readonly number[];
    inFlight: number;
    delays: readonly number[];
    crashes?: CrashPlan;
    giveUp?: readonly boolean[];
    grouped?: boolean;
  },
) {
  const stores = emptyStores();
  const commits: CommitSeen[] = [];
  const plan = options.crashes ?? crashPlan();
  const state: AccountStatePort = {
    ...stores.state,
    commit: async (input) => {
      const version = await stores.state.commit(input);
      if (version !== null)
        commits.push({
          accountId: input.accountId,
          field: input.partition,
          lastOffset: input.lastOffset,
          version,
          users: [...input.dirtyUsers],
          intervalIds: [...input.intervalJson.keys()],
        });
      return version;
    },
  };
  let writes = 0;
  const documents: DocumentsPort = {
    ...stores.docs,
    write: async (ops, writeOptions) => {
      const delay = options.delays[writes++ % options.delays.length]!;
      await new Promise((resolve) => setTimeout(resolve, delay));
      return stores.docs.write(ops, writeOptions);
    },
  };
  const store = withCrashes(state, plan, STORE_CALLS);
  const written = withCrashes(documents, plan, ['write']);
  const p = processOver(store, written);
  // The rounds' last writes that wait for the gate together go in one bulk (decision 56); a round
  // past 12 ops goes in slices of 5, the others between them (decision 58).
  const torn = createTornAccounts();
  const group = options.grouped ? { group: createWriteGroup({ gate: p.gate, torn, documents: written, maxOps: 12, sliceOps: 5 }) } : {};
  // Refreshes as the publisher makes them, all along (decision 59): each may show part of a round,
  // but only of the accounts it marks; every other account it shows whole.
  const refreshes = refresher(p.gate, torn, stores, commits);
  const lanes = createLanes({ maxQueued: 1_000_000, roundEvents: options.roundEvents });
  for (const topic of new Set(groups.flatMap((g) => g.map((part) => part.source.topic)))) lanes.reset(`${topic}:0`, 0n);
  const order = createWriteOrder();
  const unwritten: string[] = [];
  const claimsWritten = (accountOffsets: ReadonlyMap<string, ReadonlyMap<string, bigint>>) => {
    for (const c of commits) {
      if (c.lastOffset > (accountOffsets.get(c.accountId)?.get(c.field) ?? -1n)) continue;
      for (const u of c.users) if ((stores.docs.versionOf(INDICES.users, userDocId(c.accountId, u)) ?? -1) < c.version) unwritten.push(`${c.accountId}/${u}@v${c.version}`);
      for (const id of c.intervalIds) if ((stores.docs.versionOf(INDICES.facts, id) ?? -1) < c.version) unwritten.push(`${c.accountId}/${id}@v${c.version}`);
    }
  };
  /** rounds in flight, with the accounts each holds until it commits */
  const running = new Map<Round, Set<string>>();
  let wake: () => void = () => undefined;
  let failures = 0;
  const project = async (round: Round, turn: WriteTurn): Promise<void> => {
    // As the projector does (src/projector/projector.ts projectRound).
    const dropped = new Map<string, number>();
    for (;;) {
      let raises = new Map<string, Raise>();
      try {
        const outcome = await projectBatch(
          {
            ...p.deps(round.parts),
            ...group,
            torn,
            maxPieces: 1,
            budget: { left: 6 },
            turn,
            onDropped: (accounts) => {
              for (const [accountId, partition] of accounts) dropped.set(accountId, partition);
            },
            onCommitted: async (committed) => {
              raises = lanes.raises(round, committed.consumed);
              await store.raiseApplied(raises);
              if (round.committed) return;
              lanes.commit(round, committed.consumed);
              running.set(round, new Set());
              wake();
            },
            onWritten: (written) => claimsWritten(written.accountOffsets),
          },
          round.parts,
        );
        turn.done();
        lanes.settle(round, outcome.consumed, raises);
        await expectPrefixesApplied(stores, groups);
        return;
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        if (++failures > 200) throw new Error('no progress after 200 failed attempts');
        if (options.giveUp?.[failures % options.giveUp.length]) {
          torn.broke(dropped);
          lanes.giveBack(round);
          turn.done();
          return;
        }
      }
    }
  };
  const inFlight = new Set<Promise<void>>();
  let rounds = 0;
  /** Takes rounds while fewer than `inFlight` run, then waits for one to commit or end; false once nothing runs. */
  const step = async (): Promise<boolean> => {
    while (inFlight.size < options.inFlight) {
      const round = lanes.take(new Set([...running.values()].flatMap((held) => [...held])));
      if (!round) break;
      if (++rounds > 10_000) throw new Error('the lanes do not drain');
      const accounts = new Set(round.parts.flatMap((part) => [...part.byAccount.keys()]));
      running.set(round, accounts);
      const done: Promise<void> = project(round, order.enter(accounts)).finally(() => {
        running.delete(round);
        inFlight.delete(done);
      });
      inFlight.add(done);
    }
    if (inFlight.size === 0) return false;
    await new Promise<void>((resolve) => {
      wake = resolve;
      for (const done of inFlight) done.then(resolve, resolve);
    });
    return true;
  };
  for (const [i, g] of groups.entries()) {
    for (const part of g) {
      const events = [...part.byAccount].flatMap(([accountId, list]) => list.map((event) => ({ accountId, event }))).sort((a, b) => Number(a.event.offset - b.event.offset));
      const { from, to } = range(part);
      lanes.add(`${part.source.topic}:0`, { firstOffset: from, last: to, highWatermark: to + 1n, events });
    }
    for (let n = 0; n < options.roundsBetween[i % options.roundsBetween.length]!; n++) if (!(await step())) break;
  }
  while (await step());
  expect(await refreshes.stop()).toEqual({ shown: [], marked: [] });
  expect(unwritten).toEqual([]);
  expect(lanes.queued()).toBe(0);
  expect(order.size()).toBe(0);
  return held(stores, accountsOf(groups));
}

/**
 * Refreshes under the gate, one after another until stopped, marking and lifting as the publisher
 * does. Each checks what it shows: an account not marked after its start (or lifted at its end)
 * holds no commit part-written, that is no commit of which one document holds its version or a
 * later one while another does not (a later commit of the same documents counts as written).
 * `stop` refreshes once more and gives what was shown part-written and not marked, and the marks
 * that are still set (none once every round has ended: every torn account was written whole again).
 */
function refresher(gate: WriteGate, torn: TornAccounts, { docs, state }: Stores, commits: readonly CommitSeen[]) {
  const marked = new Set<string>();
  const shown: string[] = [];
  let stopped = false;
  const atLeast = (accountId: string, user: string, version: number) => (docs.versionOf(INDICES.users, userDocId(accountId, user)) ?? -Infinity) >= version;
  const refresh = () =>
    gate.refresh(async () => {
      const broken = torn.idleBroken();
      const dirty = await state.dirtyAmong(broken);
      torn.recovered(broken.filter((accountId) => !dirty.has(accountId)));
      const at = torn.atRefresh();
      const { mark, lift } = at;
      torn.marked(at);
      for (const accountId of mark.keys()) marked.add(accountId);
      for (const c of commits) {
        if (marked.has(c.accountId) && !lift.includes(c.accountId)) continue;
        const made = c.users.filter((u) => atLeast(c.accountId, u, c.version));
        if (made.length > 0 && made.length < c.users.length) shown.push(`${c.accountId}@v${c.version}: ${made.length} of ${c.users.length} users`);
      }
      torn.lifted(lift);
      for (const accountId of lift) marked.delete(accountId);
    });
  const loop = (async () => {
    while (!stopped) {
      await refresh();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
  return {
    async stop(): Promise<{ shown: string[]; marked: string[] }> {
      stopped = true;
      await loop;
      await refresh();
      return { shown: [...new Set(shown)], marked: [...marked] };
    },
  };
}

/** Every event at or before its partition's applied offset is applied by its account (no raise passes an unfinished event). */
async function expectPrefixesApplied(stores: Stores, groups: readonly Group[]): Promise<void> {
  const applied = await stores.state.applied();
  const offsets = new Map<string, Map<string, bigint>>();
  for (const account of accountsOf(groups)) offsets.set(account, (await stores.state.load(account, W)).offsets);
  const passed: string[] = [];
  for (const g of groups)
    for (const part of g) {
      const field = `${part.source.topic}:0`;
      for (const [account, events] of part.byAccount)
        for (const e of events)
          if (e.offset <= (applied.get(field) ?? -1n) && (offsets.get(account)?.get(field) ?? -1n) < e.offset) passed.push(`${field}@${e.offset} (${account})`);
    }
  expect(passed).toEqual([]);
}

/** A lane run: a history in fetches of these sizes, rounds of at most `roundEvents`, `roundsBetween` rounds after each fetch. */
const laneRunArb = fc.record({
  history: historyArb,
  sizes: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }),
  roundEvents: fc.integer({ min: 1, max: 30 }),
  roundsBetween: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
});

/** Overlapping rounds: how many at once, and the writes' delays (ms, in turn). */
const overlapArb = fc.record({
  inFlight: fc.integer({ min: 2, max: 4 }),
  delays: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }),
  // The rounds' last writes grouped in one bulk at the gate, or each alone.
  grouped: fc.boolean(),
});

const runArb = fc.record({
  history: historyArb,
  sizes: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
  crashes: fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.constantFrom<CrashMode>('before', 'after')), { minLength: 1, maxLength: 4 }),
  restarts: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
  // A cache budget of one byte drops every account as soon as its lock is released: each batch reads it again.
  budget: fc.constantFrom(undefined, 1),
  // Writes held before an early write: from one (every commit written at once) to the default.
  maxHeld: fc.constantFrom(undefined, 1, 5, 30),
});

describe('projectBatch on the twins', () => {
  it('a run without crashes holds the core’s documents and counters, every position applied, no outbox', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }), async (history, sizes) => {
        const groups = fetches(history, sizes);
        const result = await cleanRun(groups);
        const core = coreView(groups);
        expect(result.users).toEqual(core.users);
        expect(result.counters).toEqual(core.counters);
        expect(result.dirtyAccounts).toEqual([]);
        const last = new Map<string, bigint>();
        for (const g of groups) for (const part of g) last.set(`${part.source.topic}:0`, range(part).to);
        expect(result.applied).toEqual(Object.fromEntries(last));
      }),
      { numRuns: 40 },
    );
  });

  it('a crash at any step, before or after any store or document call, then a retry by the same or a restarted process, with or without a cache that keeps nothing, writes held or written early, ends where the run without crashes ends', async () => {
    await fc.assert(
      fc.asyncProperty(runArb, async ({ history, sizes, crashes, restarts, budget, maxHeld }) => {
        const groups = fetches(history, sizes);
        const plan = crashPlan(crashes);
        const clean = await cleanRun(groups);
        const crashed = await crashingRun(groups, plan, (n) => restarts[n % restarts.length]!, budget, maxHeld);
        expect(crashed).toEqual(clean);
      }),
      { numRuns: 60 },
    );
  });

  it('through the lanes, in rounds of any size with one commit per account and partition each, one to three rounds over disjoint accounts at once, while fetches keep arriving, with or without a cache that keeps one account (dropped in the lanes order), ends where the one-shot run ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        laneRunArb,
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.constant(1), { nil: undefined }),
        async ({ history, sizes, roundEvents, roundsBetween }, inFlight, budget) => {
          const groups = fetches(history, sizes);
          expect(await laneRun(groups, roundEvents, roundsBetween, inFlight, budget)).toEqual(await cleanRun(groups));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('an account’s next round commits while its previous round still writes (writes in any order of time, waiting for the account’s earlier rounds); every offset an account claims covers written commits only, and the end is the one-shot run’s', async () => {
    await fc.assert(
      fc.asyncProperty(laneRunArb, overlapArb, async ({ history, sizes, roundEvents, roundsBetween }, { inFlight, delays, grouped }) => {
        const groups = fetches(history, sizes);
        expect(await overlappingLaneRun(groups, { roundEvents, roundsBetween, inFlight, delays, grouped })).toEqual(await cleanRun(groups));
      }),
      // Shrinking replays a failing case many times: stopped before the test's timeout, so that a
      // failure reports its counterexample instead of a timeout.
      { numRuns: 40, interruptAfterTimeLimit: 40_000 },
    );
  }, 60_000);

  it('the same with crashes at any step: a failed round is tried again or given back to the lanes; claims stay on written commits and the end is the one-shot run’s', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb,
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
        // More crashes than above: a write that fails for good while the account's next round has committed is what this is about.
        fc.array(fc.tuple(fc.integer({ min: 1, max: 80 }), fc.constantFrom<CrashMode>('before', 'after')), { minLength: 2, maxLength: 10 }),
        fc.integer({ min: 1, max: 30 }),
        overlapArb,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        async (history, sizes, crashes, roundEvents, { inFlight, delays, grouped }, giveUp) => {
          const groups = fetches(history, sizes);
          const run = await overlappingLaneRun(groups, { roundEvents, roundsBetween: [1], inFlight, delays, crashes: crashPlan(crashes), giveUp, grouped });
          expect(run).toEqual(await cleanRun(groups));
        },
      ),
      { numRuns: 100, interruptAfterTimeLimit: 40_000 },
    );
  }, 60_000);

  it('writes held past the limit are written early, but a refresh waiting on the gate sees the whole batch or nothing of it', async () => {
    const stores = emptyStores();
    const history = fc.sample(
      historyArb.filter((h) => h.length > 60),
      { numRuns: 1, seed: 11 },
    )[0]!;
    const [group] = fetches(history, [history.length]);
    const seen: number[] = [];
    let writes = 0;
    const documents: DocumentsPort = {
      ...stores.docs,
      write: async (ops, options) => {
        writes += 1;
        return stores.docs.write(ops, options);
      },
    };
    const p = processOver(stores.state, documents, { maxHeldOps: 3, workPerCommit: 2 });
    const projecting = p.project(group!);
    // "Refreshes" asked for while the batch runs: each counts what a search would see.
    const refreshes = Array.from({ length: 20 }, (_, i) =>
      new Promise((resolve) => setTimeout(resolve, i)).then(() => p.gate.run(async () => seen.push(stores.docs.all(INDICES.users).size + stores.docs.all(INDICES.facts).size))),
    );
    await Promise.all([projecting, ...refreshes]);
    const all = stores.docs.all(INDICES.users).size + stores.docs.all(INDICES.facts).size;
    expect(writes).toBeGreaterThan(2);
    expect(all).toBeGreaterThan(0);
    expect(seen).toHaveLength(20);
    expect(seen.filter((n) => n !== 0 && n !== all).map((n) => `${n} of ${all}`)).toEqual([]);
  });

  it('a write refused after the commit leaves the outbox in the store; the next process writes it before anything else', async () => {
    const stores = emptyStores();
    const groups = fetches(grantHistory(true), [10]);
    const plan = crashPlan([[1, 'before']]);
    const failing = processOver(stores.state, withCrashes(stores.docs, plan, ['write']));
    await expect(failing.project(groups[0]!)).rejects.toThrow(/crash at step 1/);
    // Committed (the counters count the user) but not written: the outbox says what is missing.
    const counters = coreView(groups).counters.acc!;
    expect(Object.fromEntries([...(await stores.state.counters('acc'))].sort())).toEqual(counters);
    expect(Object.keys(counters)).not.toEqual([]);
    expect(stores.docs.all(INDICES.users).size).toBe(0);
    expect(await stores.state.dirtyAccounts()).toEqual(['acc']);
    expect([...(await stores.state.load('acc', W)).dirty.keys()]).toEqual(['u1']);

    const next = processOver(stores.state, stores.docs);
    await next.recover();
    expect([...stores.docs.all(INDICES.users).keys()]).toEqual([userDocId('acc', 'u1')]);
    expect(stores.docs.all(INDICES.facts).size).toBeGreaterThan(0);
    expect(await stores.state.dirtyAccounts()).toEqual([]);
    // The batch comes again (its offset was never committed to Kafka): nothing is applied twice.
    const again = await next.project(groups[0]!);
    expect([again.applied, again.alreadyApplied, again.documents]).toEqual([0, 4, 0]);
    expect(Object.fromEntries([...(await stores.state.counters('acc'))].sort())).toEqual(counters);
  });

  it('after the write, a changed epoch (afterWrite throws) keeps the outbox, and the retry writes it again', async () => {
    const stores = emptyStores();
    let epochMoved = true;
    // The check is told the version offsets the bulks were made at (the epoch they used).
    let offset = 3 * 2 ** 32;
    const told: number[][] = [];
    const p = processOver(stores.state, stores.docs, {
      versionOffset: () => offset,
      afterWrite: async (offsets) => {
        told.push([...offsets]);
        offset = 4 * 2 ** 32;
        if (epochMoved) {
          epochMoved = false;
          throw new AppError('store_conflict', 'the epoch changed during the write', { retriable: true });
        }
      },
    });
    const [group] = fetches(grantHistory(), [10]);
    await expect(p.project(group!)).rejects.toThrow(/epoch/);
    expect(await stores.state.dirtyAccounts()).toEqual(['acc']);
    const retried = await p.project(group!);
    expect([retried.applied, retried.alreadyApplied]).toEqual([0, 3]);
    expect(await stores.state.dirtyAccounts()).toEqual([]);
    expect([...stores.docs.all(INDICES.users).keys()]).toEqual([userDocId('acc', 'u1')]);
    expect(told).toEqual([[3 * 2 ** 32], [4 * 2 ** 32]]);
  });

  it('while the fence is closed nothing is committed or written; once open, the retry projects exactly', async () => {
    let closed = false;
    const stores = emptyStores(() => {
      if (closed) throw new AppError('redis_unavailable', 'the Redis connection was re-established since its state was checked', { retriable: true });
    });
    const groups = fetches(grantHistory(), [1]);
    const p = processOver(stores.state, stores.docs);
    await p.project(groups[0]!);
    const before = { state: stores.state.snapshot(), users: stores.docs.all(INDICES.users), facts: stores.docs.all(INDICES.facts) };
    closed = true;
    await expect(p.project(groups[1]!)).rejects.toMatchObject({ code: 'redis_unavailable' });
    closed = false;
    expect({ state: stores.state.snapshot(), users: stores.docs.all(INDICES.users), facts: stores.docs.all(INDICES.facts) }).toEqual(before);
    for (const g of groups.slice(1)) await p.project(g);
    expect(Object.fromEntries([...stores.docs.all(INDICES.users)].map(([id, d]) => [id, d.source]))).toEqual(coreView(groups).users);
  });

  it('another process committing to the same account in between: the batch reloads the account and redoes it, nothing counted twice', async () => {
    const stores = emptyStores();
    const groups = fetches(grantHistory(), [1]);
    const a = processOver(stores.state, stores.docs);
    const b = processOver(stores.state, stores.docs);
    await a.project(groups[0]!);
    await b.project(groups[1]!);
    // a's cached account is a version behind: its commit is refused, it reloads and redoes.
    const outcome = await a.project(groups[2]!);
    expect(outcome.applied).toBe(1);
    expect(await stores.state.version('acc')).toBe(3);
    const core = coreView(groups);
    expect(Object.fromEntries([...stores.docs.all(INDICES.users)].map(([id, d]) => [id, d.source]))).toEqual(core.users);
    expect(Object.fromEntries([...(await stores.state.counters('acc'))].sort())).toEqual(core.counters.acc);
  });
});

/** A user, an inbox, the user granted the inbox: three events on two topics (and the user renamed, when asked). */
function grantHistory(rename = false): Routed[] {
  const at = Date.parse('2026-03-01T09:00:00Z');
  const event = (n: number, type: FactEvent['type'], data: object): FactEvent => ({ id: `g${n}`, type, timeMs: at + n * 1000, data }) as FactEvent;
  return [
    { account: 'acc', topic: 'users', event: event(1, 'user.upserted', { user_id: 'u1', display_name: 'Ana', user_email: 'ana@x.test', user_access: 'active' }) },
    { account: 'acc', topic: 'inboxes', event: event(2, 'inbox.upserted', { inbox_id: 'i1', inbox_name: 'Main' }) },
    { account: 'acc', topic: 'inboxes', event: event(3, 'inbox.user_granted', { inbox_id: 'i1', user_id: 'u1' }) },
    // A rename closes the user's first interval: the facts index gets its one record (decision 47).
    ...(rename
      ? [
          {
            account: 'acc',
            topic: 'users' as const,
            event: event(4, 'user.upserted', { user_id: 'u1', display_name: 'Ana Cruz', user_email: 'ana@x.test', user_access: 'active' }),
          },
        ]
      : []),
  ];
}
