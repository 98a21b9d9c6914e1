/**
 * OpenSearch writes against the refresh that makes them visible: the rounds' bulk streams (and the
 * positions they mark) share the gate, several at once (their accounts are disjoint and every
 * write carries an external version); the publisher's checkpoint-and-refresh holds it alone. So a
 * refresh always shows whole rounds, exactly those whose positions it then publishes, and an
 * answer that reads a position and then the index sees the state of that position or of the next
 * one published: never half a round (docs/decisions.md 28).
 *
 * Who waits goes by weight, lightest first (then in arrival order): the refresh (weight 0) before
 * writes. A waiting refresh keeps new writes out, so that writes cannot starve it, except small
 * ones (at most SMALL_WRITE documents) while a big write it has to wait for anyway is still under
 * way: a small account's few documents do not wait for a neighbour's thousands (decision 34).
 * `run` alone is a plain lock by weight (the rounds' checks use it so).
 */
export interface WriteGate {
  /** Runs `fn` holding the gate alone. */
  run<T>(fn: () => Promise<T>, weight?: number): Promise<T>;
  /** Runs `fn` beside other shared holders; `weight` is the number of documents it writes. */
  share<T>(fn: () => Promise<T>, weight: number): Promise<T>;
}

/** A write of at most this many documents may pass a waiting refresh while a bigger one is under way. */
export const SMALL_WRITE = 100;

interface Waiter {
  weight: number;
  seq: number;
  shared: boolean;
  start: () => void;
}

export function createWriteGate(): WriteGate {
  const waiting: Waiter[] = [];
  /** the shared holders in, by arrival number, with their weights */
  const sharing = new Map<number, number>();
  let alone = false;
  let seq = 0;

  const lighter = (a: Waiter, b: Waiter) => a.weight < b.weight || (a.weight === b.weight && a.seq < b.seq);

  function take(w: Waiter): void {
    waiting.splice(waiting.indexOf(w), 1);
    if (w.shared) sharing.set(w.seq, w.weight);
    else alone = true;
    w.start();
  }

  function next(): void {
    while (!alone && waiting.length > 0) {
      const best = waiting.reduce((a, b) => (lighter(b, a) ? b : a));
      if (best.shared) {
        take(best);
        continue;
      }
      if (sharing.size === 0) return take(best);
      // The refresh waits for the writes in; a small write passes it only while a big one is in.
      if (![...sharing.values()].some((weight) => weight > SMALL_WRITE)) return;
      const small = waiting.filter((w) => w.shared && w.weight <= SMALL_WRITE).reduce<Waiter | undefined>((a, b) => (a === undefined || lighter(b, a) ? b : a), undefined);
      if (!small) return;
      take(small);
    }
  }

  function enter<T>(fn: () => Promise<T>, weight: number, shared: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = {
        weight,
        seq: seq++,
        shared,
        start: () => {
          fn()
            .then(resolve, reject)
            .finally(() => {
              if (shared) sharing.delete(w.seq);
              else alone = false;
              next();
            });
        },
      };
      waiting.push(w);
      next();
    });
  }

  return {
    run: (fn, weight = 0) => enter(fn, weight, false),
    share: (fn, weight) => enter(fn, weight, true),
  };
}
