/**
 * One account's writes in the order of its commits (docs/decisions.md 37). A light round lets its
 * accounts go once it has committed them to Redis, so the next round of an account can commit while
 * the previous one still writes; its writes wait for the previous one's to end (written, or given
 * up), so that OpenSearch receives each account's documents in version order and never an older
 * version after a newer delete, and an account's own searchable offsets are claimed in order.
 * A round never waits here while it holds the write gate or an account's lock (no cycle: it only
 * ever waits for rounds taken before it).
 */
export interface WriteTurn {
  /** settles once every earlier round of the turn's accounts has ended */
  prior: Promise<void>;
  /** the round has ended (its writes made or given up): later rounds of its accounts may write */
  done(): void;
}

export function createWriteOrder() {
  /** per account, the end of its last round taken and of every round of it before that one */
  const last = new Map<string, Promise<void>>();
  return {
    /** A round takes `accounts`: what its writes wait for, and how it says it ended. */
    enter(accounts: Iterable<string>): WriteTurn {
      const ids = [...accounts];
      let end!: () => void;
      const mine = new Promise<void>((resolve) => (end = resolve));
      const before: Promise<void>[] = [];
      for (const id of ids) {
        const previous = last.get(id);
        if (previous) before.push(previous);
      }
      const prior = before.length === 0 ? Promise.resolve() : Promise.all(before).then(() => undefined);
      // A later round waits for this one and for everything this one waits for: a round that ends
      // early (given back) must not let the next one write before an earlier round still writing.
      const ended = Promise.all([prior, mine]).then(() => undefined);
      for (const id of ids) last.set(id, ended);
      void ended.then(() => {
        for (const id of ids) if (last.get(id) === ended) last.delete(id);
      });
      return { prior, done: end };
    },
    /** accounts whose last round, or a round before it, has not ended */
    size: () => last.size,
  };
}
