/**
 * A seeded pseudo-random generator for the fuzz and stress tests, so that a failing run prints
 * its seed and can be replayed (`FUZZ_SEED=… npm run fuzz`, `STRESS_SEED=…`). sfc32 (Chris
 * Doty-Humphrey's Small Fast Chaotic generator, 32-bit variant, from PractRand): four words of
 * state, passes BigCrush, and fits in a few lines; a dependency for this would be larger than
 * the code. Not for cryptography.
 */
export interface Random {
  /** The seed this generator started from. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Pick by weight: `[[weight, value], …]`. */
  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T;
  /** A generator of its own, derived from this one's seed and `salt` (one per worker). */
  fork(salt: number): Random;
}

export function seededRandom(seed: number): Random {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next32 = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const result = (t + d) | 0;
    c = (c + result) | 0;
    return result >>> 0;
  };
  // Mix the seed in before use: nearby seeds must not give nearby streams.
  for (let i = 0; i < 15; i++) next32();
  const random: Random = {
    seed: seed >>> 0,
    next: () => next32() / 4294967296,
    int: (n) => Math.floor(random.next() * n),
    between: (min, max) => min + random.int(max - min + 1),
    chance: (p) => random.next() < p,
    pick: (items) => items[random.int(items.length)]!,
    weighted(choices) {
      const total = choices.reduce((sum, [weight]) => sum + weight, 0);
      let roll = random.next() * total;
      for (const [weight, value] of choices) {
        roll -= weight;
        if (roll < 0) return value;
      }
      return choices[choices.length - 1]![1];
    },
    fork: (salt) => seededRandom((Math.imul(seed ^ 0x5bd1e995, 0x01000193) + Math.imul(salt + 1, 0x9e3779b1)) >>> 0),
  };
  return random;
}

/** The seed from an environment variable (decimal), or a fresh one. */
export function seedFrom(variable: string): number {
  const text = process.env[variable];
  if (text !== undefined && text !== '') {
    const seed = Number(text);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new TypeError(`Expected ${variable} to be an integer from 0 to 2^32 - 1, got ${text}`);
    return seed;
  }
  return Math.floor(Math.random() * 0x100000000);
}

/** A positive integer from an environment variable, or `fallback`. */
export function intFrom(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`Expected ${variable} to be a positive integer, got ${text}`);
  return value;
}
