/**
 * benchPreset(scale)'s history decoded and grouped by account, in the history's order, each event
 * with an offset of its own: what the in-memory benches (account memory, account load) apply.
 */
import { decodeEvent } from '../../schemas/decode.ts';
import { benchPreset, generateHistory } from '../../src/demo/generator.ts';
import type { PositionedEvent } from '../../src/projector/plan-batch.ts';

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
