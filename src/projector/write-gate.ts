/**
 * One OpenSearch write at a time against the refresh that makes it visible: a bulk stream (and the
 * positions it marks) and the publisher's checkpoint-and-refresh never overlap. So a refresh
 * always shows whole rounds, exactly those whose positions it then publishes, and an answer that
 * reads a position and then the index sees the state of that position or of the next one
 * published: never half a round (docs/decisions.md 28).
 *
 * Who waits goes by weight, lightest first (then in arrival order): the publisher's refresh
 * (weight 0), then a small account's few writes before a neighbour's thousands (decision 34), so a
 * small change waits for the write under way at most, not for every big one queued before it.
 * A weight may be a function, read at each choice: a group of writes (src/projector/write-group.ts)
 * weighs what its lightest member weighs now, which may have joined it after it began to wait.
 *
 * A write may span several turns (a big round's bulk in slices, decision 58): other writes may go
 * between its turns, a refresh may not. While a span is open, a refresh waits, whatever its weight;
 * it goes first once the span ends.
 */
export interface WriteGate {
  run<T>(fn: () => Promise<T>, weight?: number | (() => number)): Promise<T>;
  /** Runs `fn` as a refresh: the lightest of all (weight 0), and never while a write spans turns. */
  refresh<T>(fn: () => Promise<T>): Promise<T>;
  /** A write that spans turns begins; no refresh runs until the returned function is called (once). */
  span(): () => void;
}

interface Waiter {
  weight: number | (() => number);
  seq: number;
  /** a refresh: it waits while a span is open */
  refresh: boolean;
  start: () => void;
}

export function createWriteGate(): WriteGate {
  const waiting: Waiter[] = [];
  const weigh = (w: number | (() => number)) => (typeof w === 'number' ? w : w());
  let busy = false;
  let seq = 0;
  let spans = 0;

  function next(): void {
    if (busy) return;
    let best = -1;
    let bestWeight = Infinity;
    for (let i = 0; i < waiting.length; i++) {
      const w = waiting[i]!;
      if (w.refresh && spans > 0) continue;
      const weight = weigh(w.weight);
      if (best < 0 || weight < bestWeight || (weight === bestWeight && w.seq < waiting[best]!.seq)) {
        best = i;
        bestWeight = weight;
      }
    }
    if (best < 0) return;
    const [chosen] = waiting.splice(best, 1);
    busy = true;
    chosen!.start();
  }

  function enqueue<T>(fn: () => Promise<T>, weight: number | (() => number), refresh: boolean): Promise<T> {
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
    run: (fn, weight = 0) => enqueue(fn, weight, false),
    refresh: (fn) => enqueue(fn, 0, true),
    span(): () => void {
      spans += 1;
      let open = true;
      return () => {
        if (!open) return;
        open = false;
        spans -= 1;
        next();
      };
    },
  };
}
