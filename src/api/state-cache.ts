/**
 * A few recently used values by key (decision 55: an account's documents at T, at one version),
 * each computed once however many callers ask for it at the same time. A value is kept `ttlMs`
 * after its last use and at most `max` at a time, the least recently used going first; a failed
 * computation is forgotten at once, so the next caller computes again.
 */
export interface StateCache<V> {
  /** The value of `key`: the one kept or being computed, else what `compute` gives (then kept). */
  get(key: string, compute: () => Promise<V>): Promise<V>;
  /** keys kept or being computed, least recently used first */
  keys(): string[];
}

export function createStateCache<V>(options: { max: number; ttlMs: number; now?: () => number }): StateCache<V> {
  const { max, ttlMs } = options;
  if (!Number.isInteger(max) || max < 1) throw new Error(`state cache: a max of at least 1 (got ${max})`);
  const now = options.now ?? Date.now;
  /** in use order: a hit moves its entry to the end */
  const entries = new Map<string, { value: Promise<V>; usedMs: number }>();
  const sweep = (at: number) => {
    for (const [key, entry] of entries) if (at - entry.usedMs > ttlMs) entries.delete(key);
  };
  return {
    get(key, compute) {
      const at = now();
      sweep(at);
      const kept = entries.get(key);
      if (kept) {
        entries.delete(key);
        kept.usedMs = at;
        entries.set(key, kept);
        return kept.value;
      }
      const entry = { value: compute(), usedMs: at };
      entries.set(key, entry);
      entry.value.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      for (const oldest of entries.keys()) {
        if (entries.size <= max) break;
        entries.delete(oldest);
      }
      return entry.value;
    },
    keys: () => (sweep(now()), [...entries.keys()]),
  };
}
