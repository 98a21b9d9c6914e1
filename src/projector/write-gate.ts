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
 */
export interface WriteGate {
  run<T>(fn: () => Promise<T>, weight?: number | (() => number)): Promise<T>;
}

export function createWriteGate(): WriteGate {
  const waiting: { weight: number | (() => number); seq: number; start: () => void }[] = [];
  const weigh = (w: number | (() => number)) => (typeof w === 'number' ? w : w());
  let busy = false;
  let seq = 0;

  function next(): void {
    if (busy || waiting.length === 0) return;
    let best = 0;
    let bestWeight = weigh(waiting[0]!.weight);
    for (let i = 1; i < waiting.length; i++) {
      const w = waiting[i]!;
      const weight = weigh(w.weight);
      if (weight < bestWeight || (weight === bestWeight && w.seq < waiting[best]!.seq)) {
        best = i;
        bestWeight = weight;
      }
    }
    const [chosen] = waiting.splice(best, 1);
    busy = true;
    chosen!.start();
  }

  return {
    run<T>(fn: () => Promise<T>, weight: number | (() => number) = 0): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        waiting.push({
          weight,
          seq: seq++,
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
    },
  };
}
