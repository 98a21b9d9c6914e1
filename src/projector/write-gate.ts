/**
 * One OpenSearch write at a time against the refresh that makes it visible: a bulk stream (and the
 * positions it marks) and the publisher's checkpoint-and-refresh never overlap. So a refresh
 * always shows whole groups, exactly those whose positions it then publishes, and an answer that
 * reads a position and then the index sees the state of that position or of the next one
 * published: never half a group (docs/decisions.md 28).
 */
export interface WriteGate {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function createWriteGate(): WriteGate {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const result = tail.then(fn, fn);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
