/**
 * The requests waiting for `min_position` share one poll (docs/decisions.md 46). Each used to read
 * its account's positions every 25 ms on its own; while the projector lags, clients that read their
 * own writes pile up (a hundred at once in the freshness bench), and their thousands of reads a
 * second took CPU from the projector they waited for. Now every tick reads, in one round trip per
 * generation, the generation's positions once and each waiting account's own once, and settles
 * every request whose positions are reached or whose time is up.
 */
import { AppError } from '../errors.ts';
import type { KeySpace } from '../redis/keys.ts';
import type { PositionSource } from '../redis/positions-reader.ts';
import { type Positions, formatPositions, lagBehind } from './position.ts';

/** The positions of several accounts of one generation, in the order asked (src/redis/positions-reader.ts readAccountsPositions). */
export type ReadAccountsPositions = (space: KeySpace, asked: readonly { accountId: string; source: PositionSource }[]) => Promise<Positions[]>;

interface Waiter {
  space: KeySpace;
  accountId: string;
  source: PositionSource;
  wanted: Positions;
  deadline: number;
  waitMs: number;
  resolve: (positions: Positions) => void;
  reject: (error: unknown) => void;
}

export interface PositionWaits {
  /**
   * The account's positions once they reach `wanted`, read at the next ticks; past `waitMs` an
   * AppError 'position_timeout' carrying the lag per partition (wanted versus have).
   */
  wait(space: KeySpace, accountId: string, source: PositionSource, wanted: Positions, waitMs: number): Promise<Positions>;
  /** requests waiting now */
  waiting(): number;
}

export function timeoutError(wanted: Positions, have: Positions, waitMs: number): AppError {
  const lag = lagBehind(wanted, have);
  const detail = lag.map((l) => `${l.topic}:${l.partition} wanted ${l.wanted}, have ${l.have ?? 'nothing'}`).join('; ');
  return new AppError('position_timeout', `the index did not reach min_position within ${waitMs} ms: ${detail}`, {
    retriable: true,
    details: { lag, position: formatPositions(have) },
  });
}

export function createPositionWaits(read: ReadAccountsPositions, options: { pollMs?: number; now?: () => number } = {}): PositionWaits {
  const pollMs = options.pollMs ?? 25;
  const now = options.now ?? Date.now;
  const waiters = new Set<Waiter>();
  let polling = false;

  /** One generation's waiters: one read, then each settled or left for the next tick. */
  async function pollSpace(group: Waiter[]): Promise<void> {
    let results: Positions[];
    try {
      results = await read(group[0]!.space, group);
    } catch (error) {
      for (const w of group) {
        waiters.delete(w);
        w.reject(error);
      }
      return;
    }
    const at = now();
    group.forEach((w, i) => {
      const have = results[i]!;
      if (lagBehind(w.wanted, have).length === 0) w.resolve(have);
      else if (at >= w.deadline) w.reject(timeoutError(w.wanted, have, w.waitMs));
      else return;
      waiters.delete(w);
    });
  }

  async function loop(): Promise<void> {
    polling = true;
    try {
      while (waiters.size > 0) {
        let soonest = Infinity;
        for (const w of waiters) soonest = Math.min(soonest, w.deadline);
        await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, soonest - now()))));
        const bySpace = new Map<string, Waiter[]>();
        for (const w of waiters) {
          const key = `${w.space.namespace}\u0000${w.space.generation}`;
          const group = bySpace.get(key);
          if (group) group.push(w);
          else bySpace.set(key, [w]);
        }
        await Promise.all([...bySpace.values()].map(pollSpace));
      }
    } finally {
      polling = false;
    }
  }

  return {
    wait(space, accountId, source, wanted, waitMs) {
      return new Promise<Positions>((resolve, reject) => {
        waiters.add({ space, accountId, source, wanted, waitMs, deadline: now() + waitMs, resolve, reject });
        if (!polling) void loop();
      });
    },
    waiting: () => waiters.size,
  };
}
