/**
 * Which accounts of a committed heavy round go into their next round while it still writes
 * (decisions 49 and 50). A heavy round is one account's fan-out; letting the account go at commit
 * lets its next round be planned while OpenSearch indexes this one, so the thread derives while the
 * writes are made. Three bounds:
 *   - the account has at least twice as many events waiting again as the round consumed: with
 *     fewer, the next round would be smaller than this one (a round's events go back to Kafka's
 *     fetch only once written), and smaller rounds merge less of a role changed again and again;
 *   - no other heavy round is writing after such an early release: one at a time, since each holds
 *     up to a work budget of documents while it writes;
 *   - the process has room for a second round's held documents under its memory budget
 *     (HEAVY_ROUND_BYTES): without it the two rounds at once take the process over its budget.
 */
import type { Consumed } from './lanes.ts';

/**
 * What a heavy round holds while it writes, about: its documents and closed intervals serialized,
 * and their bulk request (5 MiB at a time). The largest round of the full history's largest account
 * (a role change reaching 19,115 agents, which one event's plan does not cut) held 81.0 MiB of JSON,
 * 143.3 MiB of heap (`node --expose-gc --import tsx bench/account-memory.ts --scale 1 --accounts 1`,
 * 17 min); this is that with its bulk body and some margin.
 */
export const HEAVY_ROUND_BYTES = 160 * 2 ** 20;

export interface CatchingUpInput {
  /** the round's accounts */
  accounts: Iterable<string>;
  /** what the round consumed, per partition and account */
  consumed: Consumed;
  /** events of the account waiting in the lanes, not taken by a round */
  waiting: (accountId: string) => number;
  /** another heavy round let its account go early and still writes */
  otherWriting: boolean;
  /** bytes left under the process's memory budget (Infinity: no budget) */
  room: number;
}

export interface CatchingUp {
  early: Set<string>;
  /** the accounts would have gone early but for the memory budget */
  heldForMemory: boolean;
}

export function catchingUpAccounts(input: CatchingUpInput): CatchingUp {
  const early = new Set<string>();
  if (input.otherWriting) return { early, heldForMemory: false };
  for (const accountId of input.accounts) {
    let mine = 0;
    for (const byAccount of input.consumed.values()) mine += byAccount.get(accountId) ?? 0;
    if (mine > 0 && input.waiting(accountId) >= 2 * mine) early.add(accountId);
  }
  if (early.size > 0 && input.room < HEAVY_ROUND_BYTES) return { early: new Set(), heldForMemory: true };
  return { early, heldForMemory: false };
}
