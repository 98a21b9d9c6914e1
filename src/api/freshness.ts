/**
 * Freshness: waiting for `min_position` so a client that has just published a change reads its own
 * write (contract section 4). The positions themselves are read from Redis by
 * src/redis/positions-reader.ts.
 */
import { AppError } from '../errors.ts';
import { type Positions, formatPositions, lagBehind } from './position.ts';

export interface AwaitPositionsOptions {
  read: () => Promise<Positions>;
  /** the offsets the answer must reflect; nothing to wait for when absent or empty */
  wanted: Positions | undefined;
  waitMs: number;
  now?: () => number;
  pollMs?: number;
}

/**
 * The current positions once they reach `wanted`, polling every ~25 ms. Past `waitMs`, throws
 * AppError 'position_timeout' carrying the lag per partition (wanted versus have).
 */
export async function awaitPositions(options: AwaitPositionsOptions): Promise<Positions> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.waitMs;
  for (;;) {
    const have = await options.read();
    if (!options.wanted || options.wanted.size === 0) return have;
    const lag = lagBehind(options.wanted, have);
    if (lag.length === 0) return have;
    if (now() >= deadline) {
      const detail = lag.map((l) => `${l.topic}:${l.partition} wanted ${l.wanted}, have ${l.have ?? 'nothing'}`).join('; ');
      throw new AppError('position_timeout', `the index did not reach min_position within ${options.waitMs} ms: ${detail}`, {
        retriable: true,
        details: { lag, position: formatPositions(have) },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 25, Math.max(1, deadline - now()))));
  }
}
