/**
 * The one retry helper: exponential backoff with full jitter, for retriable errors only.
 * Outages of Kafka, Redis or OpenSearch pause the work here until the server is back.
 */
import { isRetriable } from './errors.ts';

export interface RetryOptions {
  /** Attempts after the first; Infinity retries until `signal` aborts. */
  retries?: number;
  baseMs?: number;
  maxMs?: number;
  retriable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Source of randomness for the jitter (tests pass a fixed one). */
  random?: () => number;
}

/** Waits `ms`, or less when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The delay before attempt `attempt` (1-based): full jitter over an exponential cap. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * Runs `fn` until it succeeds, a non-retriable error is thrown, the retries are used up, or the
 * signal aborts (then the last error is thrown).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retries = 5, baseMs = 100, maxMs = 10_000, retriable = isRetriable, onRetry, signal, random } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt > retries || !retriable(error) || signal?.aborted) throw error;
      const delay = backoffDelay(attempt, baseMs, maxMs, random);
      onRetry?.(error, attempt, delay);
      await sleep(delay, signal);
      if (signal?.aborted) throw error;
    }
  }
}
