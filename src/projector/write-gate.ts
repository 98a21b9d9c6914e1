/**
 * One OpenSearch write at a time against the refresh that makes it visible: a bulk (and the
 * positions it marks) and the publisher's checkpoint-and-refresh never overlap. So a refresh shows
 * whole bulks, and the rounds written whole are exactly those whose positions it then publishes
 * (docs/decisions.md 28); a round written in several turns that a refresh shows part of is marked
 * in Redis with that refresh, and its readers wait for the mark to go (decision 59).
 *
 * Who waits goes by weight, lightest first (then in arrival order): the publisher's refresh
 * (weight 0), then a small account's few writes before a neighbour's thousands (decision 34), so a
 * small change waits for the write under way at most, not for every big one queued before it.
 * A weight may be a function, read at each choice: a group of writes (src/projector/write-group.ts)
 * weighs what its lightest member weighs now, which may have joined it after it began to wait.
 *
 * A write may span several turns (a big round's bulk in slices, decision 58): other writes go
 * between its turns, and so may a refresh (src/projector/torn-accounts.ts), unless `holdRefresh`
 * says no (the projector is behind: a refresh between slices costs the catch-up more than it
 * gives, decision 59).
 */
export interface WriteGate {
  run<T>(fn: () => Promise<T>, weight?: number | (() => number)): Promise<T>;
  /** Runs `fn` as a refresh: the lightest of all (weight 0), when `holdRefresh` does not say no. */
  refresh<T>(fn: () => Promise<T>): Promise<T>;
  /** Who holds the gate and who waits (for the projector's stall report). */
  status(): { busyMs?: number; waiting: number; refreshWaiting: boolean; refreshHeld: boolean };
}

interface Waiter {
  weight: number | (() => number);
  seq: number;
  /** a refresh: `holdRefresh` may keep it waiting */
  refresh: boolean;
  start: () => void;
}

export function createWriteGate(options: { holdRefresh?: () => boolean } = {}): WriteGate {
  const waiting: Waiter[] = [];
  const weigh = (w: number | (() => number)) => (typeof w === 'number' ? w : w());
  let busy = false;
  /** when the gate was last taken */
  let takenAt = 0;
  let seq = 0;

  function next(): void {
    if (busy) return;
    let best = -1;
    let bestWeight = Infinity;
    for (let i = 0; i < waiting.length; i++) {
      const w = waiting[i]!;
      if (w.refresh && options.holdRefresh?.()) continue;
      const weight = weigh(w.weight);
      if (best < 0 || weight < bestWeight || (weight === bestWeight && w.seq < waiting[best]!.seq)) {
        best = i;
        bestWeight = weight;
      }
    }
    if (best < 0) return;
    const [chosen] = waiting.splice(best, 1);
    busy = true;
    takenAt = performance.now();
    chosen!.start();
  }

  function enqueue<T>(fn: () => Promise<T>, weight: number | (() => number), refresh = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      waiting.push({
        weight,
        seq: seq++,
        refresh,
        start: () => {
          fn()
            .then(resolve, reject)
            .finally(() => {
              busy = false;
              next();
            });
        },
      });
      next();
    });
  }

  return {
    run: (fn, weight = 0) => enqueue(fn, weight),
    refresh: (fn) => enqueue(fn, 0, true),
    status: () => ({
      ...(busy ? { busyMs: Math.round(performance.now() - takenAt) } : {}),
      waiting: waiting.length,
      refreshWaiting: waiting.some((w) => w.refresh),
      refreshHeld: options.holdRefresh?.() ?? false,
    }),
  };
}
