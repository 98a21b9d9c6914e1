/**
 * A small seeded PRNG (mulberry32) with the helpers the demo generator needs. Never Math.random:
 * the same seed must give the same history on every machine and every run.
 */

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element, uniformly. Throws on an empty array. */
  pick<T>(items: readonly T[]): T;
  /** One value, with probability proportional to its weight (weights >= 0, not all 0). */
  weighted<T>(choices: readonly (readonly [T, number])[]): T;
  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** An exponentially distributed float with the given mean (gaps between independent events). */
  exponential(mean: number): number;
}

/** Mixes strings and numbers into one 32-bit seed (FNV-1a, then a murmur3 finalizer). */
export function hashSeed(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${typeof part}:${part}\u0000`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A PRNG seeded with a 32-bit integer (other numbers are hashed first). */
export function createRandom(seed: number): Random {
  let state = Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff ? seed : hashSeed(seed);

  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));

  return {
    next,
    int,
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty array');
      return items[Math.floor(next() * items.length)] as T;
    },
    weighted<T>(choices: readonly (readonly [T, number])[]): T {
      let total = 0;
      for (const [, weight] of choices) total += weight;
      if (!(total > 0)) throw new RangeError('weighted pick needs a positive total weight');
      let at = next() * total;
      for (const [value, weight] of choices) {
        at -= weight;
        if (at < 0) return value;
      }
      // Rounding can leave `at` a hair above 0: the last positive choice takes it.
      for (let i = choices.length - 1; ; i--) if ((choices[i]?.[1] ?? 0) > 0) return (choices[i] as readonly [T, number])[0];
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const a = items[i] as T;
        items[i] = items[j] as T;
        items[j] = a;
      }
      return items;
    },
    exponential: (mean) => -Math.log(1 - next()) * mean,
  };
}
