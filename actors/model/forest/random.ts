/**
 * Seeded pseudo-random numbers for training: xoshiro128** (32-bit state words, Math.imul only), seeded through
 * splitmix32. Every tree gets its own stream derived from (forest seed, tree index), so a tree depends on
 * nothing but those two numbers: same seed, same forest, whatever order or thread the trees are built in.
 */

/** A source of uniform random numbers; not shared across threads. */
export interface Random {
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n), n between 1 and 2^32. */
  nextInt(n: number): number;
}

/** One splitmix32 step: a well-mixed 32-bit value from a 32-bit counter. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

class Xoshiro128StarStar implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: number) {
    let s = splitmix32(seed ^ Math.imul(stream + 1, 0x27d4eb2d));
    this.a = s = splitmix32(s);
    this.b = s = splitmix32(s);
    this.c = s = splitmix32(s);
    this.d = splitmix32(s);
    // An all-zero state would only ever produce zeros.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  nextInt(n: number): number {
    // Scaling a 32-bit draw: the bias is at most n / 2^32, far below anything a forest can notice.
    return Math.floor((this.nextUint32() / 4294967296) * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The random stream of tree `stream` in a forest seeded with `seed` (an unsigned 32-bit integer). */
export function createRandom(seed: number, stream: number): Random {
  return new Xoshiro128StarStar(seed >>> 0, stream >>> 0);
}
