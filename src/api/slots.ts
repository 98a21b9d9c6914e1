/**
 * A fixed number of slots for work that holds much memory while it runs (decision 54): a caller
 * waits, in arrival order, until a slot is free. Unlike a limiter that wraps one promise, a slot is
 * taken and given back by hand, so a streaming answer (an async generator) can hold it until it ends.
 */
export interface Slots {
  /** Resolves once a slot is the caller's; `release` gives it back (once; more calls do nothing). */
  acquire(): Promise<() => void>;
  /** Runs `fn` in a slot, giving the slot back however `fn` ends. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** callers waiting for a slot */
  waiting(): number;
}

export function createSlots(size: number): Slots {
  if (!Number.isInteger(size) || size < 1) throw new Error(`slots: a size of at least 1 (got ${size})`);
  let free = size;
  const queue: (() => void)[] = [];
  const releaser = (): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.shift();
      if (next) next();
      else free += 1;
    };
  };
  const acquire = (): Promise<() => void> => {
    if (free > 0) {
      free -= 1;
      return Promise.resolve(releaser());
    }
    return new Promise((resolve) => queue.push(() => resolve(releaser())));
  };
  return {
    acquire,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const release = await acquire();
      try {
        return await fn();
      } finally {
        release();
      }
    },
    waiting: () => queue.length,
  };
}
