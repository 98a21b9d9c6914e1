/**
 * Parity between two generations: for each account that both have applied up to the same offsets,
 * the user documents and the counters must be equal. Accounts still receiving events may differ in
 * offsets at a given moment; they are compared again until they line up or the attempts run out.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { AccountStatePort } from '../ports/account-state.ts';
import { readAccountUsers } from '../opensearch/read-users.ts';
import { storedForm } from '../opensearch/user-document.ts';

export interface GenerationView {
  store: AccountStatePort;
  usersIndex: string;
}

export interface ParityReport {
  compared: number;
  /** accounts whose offsets never lined up within the attempts */
  notCompared: string[];
  differences: string[];
}

const sameOffsets = (a: Map<string, bigint>, b: Map<string, bigint>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/**
 * Whether both indices hold the same user documents for the account: read side by side in user-id
 * order and compared one by one, so neither generation's documents are held whole (the largest
 * account has tens of thousands).
 */
async function sameUsers(opensearch: Client, liveIndex: string, nextIndex: string, accountId: string): Promise<boolean> {
  const a = readAccountUsers(opensearch, liveIndex, accountId);
  const b = readAccountUsers(opensearch, nextIndex, accountId);
  try {
    for (;;) {
      const [x, y] = await Promise.all([a.next(), b.next()]);
      if (x.done || y.done) return !!x.done && !!y.done;
      // Names are not part of a document since decision 64; a live one written before still has them.
      if (JSON.stringify(storedForm(x.value)) !== JSON.stringify(storedForm(y.value))) return false;
    }
  } finally {
    await Promise.all([a.return(undefined), b.return(undefined)]);
  }
}

async function compareAccount(opensearch: Client, live: GenerationView, next: GenerationView, accountId: string): Promise<string[] | 'moving'> {
  const offsets = await live.store.appliedOffsets(accountId);
  if (!sameOffsets(offsets, await next.store.appliedOffsets(accountId))) return 'moving';
  const same = await sameUsers(opensearch, live.usersIndex, next.usersIndex, accountId);
  const [ca, cb] = await Promise.all([live.store.counters(accountId), next.store.counters(accountId)]);
  // The account may have moved on while we read: only a stable read counts.
  if (!sameOffsets(offsets, await live.store.appliedOffsets(accountId))) return 'moving';
  const differences: string[] = [];
  if (!same) differences.push(`${accountId}: user documents differ`);
  for (const key of new Set([...ca.keys(), ...cb.keys()]))
    if ((ca.get(key) ?? 0) !== (cb.get(key) ?? 0)) differences.push(`${accountId}: counter ${key}: live ${ca.get(key) ?? 0}, rebuilt ${cb.get(key) ?? 0}`);
  return differences;
}

/** Compares every account of both generations, retrying accounts in motion `attempts` times. */
export async function checkParity(opensearch: Client, live: GenerationView, next: GenerationView, options: { attempts?: number; pauseMs?: number } = {}): Promise<ParityReport> {
  let pending = [...new Set([...(await live.store.accounts()), ...(await next.store.accounts())])].sort();
  const report: ParityReport = { compared: 0, notCompared: [], differences: [] };
  for (let attempt = 0; attempt < (options.attempts ?? 20) && pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 500));
    const moving: string[] = [];
    for (const accountId of pending) {
      const result = await compareAccount(opensearch, live, next, accountId);
      if (result === 'moving') moving.push(accountId);
      else {
        report.compared += 1;
        report.differences.push(...result);
      }
    }
    pending = moving;
  }
  report.notCompared = pending;
  return report;
}
