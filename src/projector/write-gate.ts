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
 */
export interface WriteGate {
  run<T>(fn: () => Promise<T>, weight?: number): Promise<T>;
}

export function createWriteGate(): WriteGate {
  const waiting: { weight: number; seq: number; start: () => void }[] = [];
  let busy = false;
  let seq = 0;

  function next(): void {
    if (busy || waiting.length === 0) return;
    let best = 0;
    for (let i = 1; i < waiting.length; i++) {
      const w = waiting[i]!;
      const b = waiting[best]!;
      if (w.weight < b.weight || (w.weight === b.weight && w.seq < b.seq)) best = i;
    }
    const [chosen] = waiting.splice(best, 1);
    busy = true;
    chosen!.start();
  }

  return {
    run<T>(fn: () => Promise<T>, weight = 0): Promise<T> {
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
