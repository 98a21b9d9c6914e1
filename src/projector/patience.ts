/**
 * How the projector waits out an outage: a step is retried with backoff (src/retry.ts) until it
 * works, the projector stops, or the batch it serves is no longer ours (the consumer stopped, a
 * partition was taken away). Errors the retry policy calls permanent (src/errors.ts `retryClass`)
 * are not retried. While a step waits, the projector reports `degraded` and keeps its consumer
 * group membership alive with heartbeats.
 */
import { retryClass } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { retry } from '../retry.ts';
import type { ProjectorHealth } from './health.ts';

/** What a step serving a batch asks of it (kafkajs' EachBatchPayload has all three). */
export interface BatchControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export function createPatience(options: { signal: AbortSignal; logger: Logger; health: ProjectorHealth }) {
  const { signal, logger, health } = options;
  return async function patiently<T>(what: string, fn: () => Promise<T>, control?: BatchControl): Promise<T> {
    let failing = false;
    try {
      return await retry(fn, {
        retries: Number.POSITIVE_INFINITY,
        baseMs: 200,
        maxMs: 5_000,
        signal,
        retriable: (error) => !signal.aborted && (control ? control.isRunning() && !control.isStale() : true) && retryClass(error) !== 'permanent',
        onRetry: (error, attempt, delayMs) => {
          if (!failing) {
            failing = true;
            health.waiting(1);
          }
          health.error(`${what}: ${(error as Error).message}`);
          logger.warn({ err: error, attempt, delayMs, step: what }, 'step failed; retrying');
          control?.heartbeat().catch(() => undefined);
        },
      });
    } finally {
      if (failing) health.waiting(-1);
    }
  };
}

export type Patiently = ReturnType<typeof createPatience>;
