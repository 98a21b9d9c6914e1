/**
 * benchPreset(scale)'s history decoded and grouped by account, in the history's order, each event
 * with an offset of its own: what the in-memory benches (account memory, account load, verify memory) apply.
 */
import { DEFAULT_DEDUPE_WINDOW_MS, emptyAccount } from '../../projections/index.ts';
import { decodeEvent } from '../../schemas/decode.ts';
import { benchPreset, generateHistory } from '../../src/demo/generator.ts';
import type { BatchCommit } from '../../src/ports/account-state.ts';
import { type BatchPlan, type PositionedEvent, planBatch } from '../../src/projector/plan-batch.ts';
import { emptyRaw } from '../../src/records/fact-intervals.ts';
import { progress } from './report.ts';

/** The `count` accounts with the most events, the largest first, and how many accounts there are. */
export function largestAccounts(scale: number, count: number): { accounts: number; largest: [string, PositionedEvent[]][] } {
  const byAccount = new Map<string, PositionedEvent[]>();
  let offset = 0n;
  for (const g of generateHistory({ ...benchPreset(scale), seed: 42 })) {
    const decoded = decodeEvent({ key: g.key, value: JSON.stringify(g.value), topic: g.topic });
    if (!decoded.ok) continue;
    const list = byAccount.get(g.key) ?? [];
    list.push({ event: decoded.event, offset: (offset += 1n) });
    byAccount.set(g.key, list);
  }
  return { accounts: byAccount.size, largest: [...byAccount].sort(([, a], [, b]) => b.length - a.length).slice(0, count) };
}

/**
 * The largest account of benchPreset(scale) and its whole plan: planBatch over all its events from
 * an empty account, as the one partition `all:0` (what wholeCommit commits).
 */
export function largestAccountPlan(scale: number): { accountId: string; events: PositionedEvent[]; plan: BatchPlan } {
  const [accountId, events] = largestAccounts(scale, 1).largest[0]!;
  progress(`${accountId}: applying ${events.length} events in memory`);
  const plan = planBatch(emptyAccount(), emptyRaw(), { accountId, topic: 'all', partition: 0, version: 1 }, events, DEFAULT_DEDUPE_WINDOW_MS);
  return { accountId, events, plan };
}

/**
 * One account's whole plan (largestAccountPlan) as one commit at version 1, its outbox
 * empty (nothing left to write): how the in-memory benches put an account into Redis.
 */
export function wholeCommit(accountId: string, plan: BatchPlan, counterDeltas = new Map<string, number>()): BatchCommit {
  return {
    accountId,
    expectedVersion: 0,
    partition: 'all:0',
    lastOffset: plan.lastOffset,
    changes: plan.changes,
    seen: plan.seen,
    newestMs: plan.newestMs,
    pruneBeforeMs: plan.pruneBeforeMs,
    counterDeltas,
    dirtyUsers: [],
    intervalJson: new Map(),
    rawChanges: plan.rawChanges,
  };
}

/** The raw facts a plan leaves held (its raw changes that are not deletions). */
export const heldRawFacts = (plan: BatchPlan): number => [...plan.rawChanges.values()].filter((v) => v !== null).length;
