/**
 * Synthetic prices: a seeded, deterministic generator of realistic daily-like series, for load benchmarks, demos
 * and the embedded mode. Each commodity's log price reverts slowly to a level that trends with the commodity's
 * own drift (the trend turns back when the level has moved far from where it started, so that prices stay
 * realistic over millions of steps); its volatility switches between a calm and a turbulent regime (a two-state
 * Markov chain), and some steps are skipped (gaps, like holidays). Same options, same ticks, bit for bit.
 */
import type { PriceTick } from '../../../proto/gen/carbon/v1/price_tick.ts';
import type { RawRow, RowSource } from '../raw-row.ts';

export interface SyntheticOptions {
  readonly seed: number;
  /** Number of commodities, named SYN_001, SYN_002, ... */
  readonly commodities: number;
  /** Ticks in total, over all commodities. */
  readonly ticks: number;
  /** Time of the first step, epoch ms. */
  readonly startMs: number;
  /** Time between two steps of one commodity. */
  readonly intervalMs: number;
  /** Chance that a commodity has no tick at a step; default 0.02. */
  readonly gapProbability?: number;
  /**
   * Share of each step's random move carried into the next (AR(1) on the moves, in [0, 1)); default 0, a pure
   * random walk. The demo of `npm start` uses some, so that its models have something real to learn.
   */
  readonly momentum?: number;
}

export const SYNTHETIC_UNIT = 'USD';

/** sfc32 (Small Fast Counting), seeded through splitmix32: fast, 128-bit state, good enough statistics. */
export function createRandom(seed: number): () => number {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
}

/** Standard normal variates by Box-Muller, two per pair of uniforms. */
function createNormal(random: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = Number.NaN;
      return v;
    }
    const u = 1 - random();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

export function syntheticCommodityIds(count: number): string[] {
  const width = Math.max(3, String(count).length);
  return Array.from({ length: count }, (_, i) => `SYN_${String(i + 1).padStart(width, '0')}`);
}

interface Walk {
  readonly id: string;
  logPrice: number;
  /** Log level the price reverts to; moves by `drift` a step. */
  level: number;
  readonly startLevel: number;
  drift: number;
  readonly calmVolatility: number;
  turbulent: boolean;
  /** The last step's random move, in log price. */
  lastMove: number;
}

/** Chances per step of entering and leaving the turbulent regime, and how much more it moves. */
const TO_TURBULENT = 0.01;
const TO_CALM = 0.05;
const TURBULENCE_FACTOR = 3;
/** Share of the distance to the level closed per step (a half-life of about 140 steps). */
const REVERSION = 0.005;
/** How far (in log) the level may trend away from its start before the trend turns. */
const MAX_LEVEL_SHIFT = 1.2;

function validate(o: SyntheticOptions): void {
  const bad = (what: string): never => {
    throw new RangeError(`synthetic: ${what}`);
  };
  if (!Number.isInteger(o.commodities) || o.commodities < 1 || o.commodities > 99_999) bad(`commodities must be an integer in [1, 99999], got ${o.commodities}`);
  if (!Number.isInteger(o.ticks) || o.ticks < 0) bad(`ticks must be a non-negative integer, got ${o.ticks}`);
  if (!Number.isFinite(o.startMs)) bad(`startMs must be finite, got ${o.startMs}`);
  if (!Number.isFinite(o.intervalMs) || o.intervalMs <= 0) bad(`intervalMs must be > 0, got ${o.intervalMs}`);
  const gap = o.gapProbability ?? 0.02;
  if (!(gap >= 0 && gap < 1)) bad(`gapProbability must be in [0, 1), got ${gap}`);
  const momentum = o.momentum ?? 0;
  if (!(momentum >= 0 && momentum < 1)) bad(`momentum must be in [0, 1), got ${momentum}`);
}

/**
 * The ticks, in time order: step by step, every commodity that has no gap at that step gets one tick at
 * startMs + step * intervalMs. Stops after `ticks` ticks. A class with `next()` rather than a generator: the
 * ingest benchmark pulls a million ticks through it, and a generator's protocol costs more than the walk.
 */
export class SyntheticTickStream {
  private readonly random: () => number;
  private readonly normal: () => number;
  private readonly gap: number;
  private readonly momentum: number;
  private readonly source: string;
  private readonly walks: Walk[];
  private emitted = 0;
  private step = 0;
  private index = 0;

  constructor(private readonly options: SyntheticOptions) {
    validate(options);
    this.random = createRandom(options.seed);
    this.normal = createNormal(this.random);
    this.gap = options.gapProbability ?? 0.02;
    this.momentum = options.momentum ?? 0;
    this.source = `synthetic:seed=${options.seed}`;
    const random = this.random;
    this.walks = syntheticCommodityIds(options.commodities).map((id) => {
      // Log-uniform between 5 and 2,000 (natural gas to gold).
      const start = Math.log(5) + random() * Math.log(400);
      return { id, logPrice: start, level: start, startLevel: start, drift: (random() - 0.4) * 0.001, calmVolatility: 0.005 + random() * 0.02, turbulent: false, lastMove: 0 };
    });
  }

  /** The next tick, or undefined after the last. */
  next(): PriceTick | undefined {
    const random = this.random;
    while (this.emitted < this.options.ticks) {
      if (this.index === this.walks.length) {
        this.index = 0;
        this.step++;
      }
      const w = this.walks[this.index++] as Walk;
      w.turbulent = w.turbulent ? random() >= TO_CALM : random() < TO_TURBULENT;
      const sigma = w.turbulent ? w.calmVolatility * TURBULENCE_FACTOR : w.calmVolatility;
      w.level += w.drift;
      if (Math.abs(w.level - w.startLevel) > MAX_LEVEL_SHIFT) w.drift = -w.drift;
      w.lastMove = this.momentum * w.lastMove + sigma * this.normal();
      w.logPrice += REVERSION * (w.level - w.logPrice) + w.lastMove;
      if (random() < this.gap) continue;
      this.emitted++;
      const tsMs = this.options.startMs + this.step * this.options.intervalMs;
      return { commodity: w.id, tsMs, price: Math.round(Math.exp(w.logPrice) * 10_000) / 10_000, unit: SYNTHETIC_UNIT, source: this.source };
    }
    return undefined;
  }
}

/** The ticks of SyntheticTickStream as a generator, for callers that iterate. */
export function* syntheticTicks(options: SyntheticOptions): Generator<PriceTick> {
  const stream = new SyntheticTickStream(options);
  for (let tick = stream.next(); tick !== undefined; tick = stream.next()) yield tick;
}

/** A synthetic tick as a raw row; its CSV text is made only if it is needed (a rejection), not per tick. */
class SyntheticRow implements RawRow {
  readonly commodityHint: string;
  readonly date: number;
  readonly price: number;
  readonly origin: string;
  /** Generated rows have no file: the generator's origin (`synthetic:seed=42`) says where they come from. */
  readonly file: string;
  readonly unit: string;
  /** An upper bound of raw's size (id, ISO time, shortest price text, commas), known without building it. */
  readonly rawSizeBytes: number;
  constructor(tick: PriceTick, readonly lineNo: number) {
    this.rawSizeBytes = tick.commodity.length + 27 + 26 + 2;
    this.commodityHint = tick.commodity;
    this.date = tick.tsMs;
    this.price = tick.price;
    this.origin = tick.source;
    this.file = tick.source;
    this.unit = tick.unit;
  }

  get raw(): string {
    return `${this.commodityHint},${new Date(this.date).toISOString()},${this.price}`;
  }
}

export interface SyntheticSourceOptions extends SyntheticOptions {
  /** Ticks per second; undefined for as fast as possible. */
  readonly ratePerS?: number | undefined;
  /**
   * Tick times on the wall clock (a live feed): each tick is stamped when it is read, rounded down to the step
   * grid from startMs, and at least one interval after its commodity's previous tick; it is never ahead of the
   * clock (the source waits instead), so a commodity gets at most one tick per interval.
   */
  readonly live?: boolean | undefined;
}

/** How often a paced source checks the clock: about every 10 ms worth of ticks. */
const PACING_CHECKS_PER_S = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SyntheticSource implements RowSource {
  readonly description: string;
  readonly expectedRows: number;

  constructor(private readonly options: SyntheticSourceOptions) {
    validate(options);
    if (options.ratePerS !== undefined && !(options.ratePerS > 0)) throw new RangeError(`synthetic: rate must be > 0 ticks/s, got ${options.ratePerS}`);
    this.description = `synthetic seed=${options.seed} commodities=${options.commodities} ticks=${options.ticks}${options.live ? ' live' : ''}`;
    this.expectedRows = options.ticks;
  }

  absentCells(): number {
    return 0;
  }

  /**
   * A plain iterator rather than an async generator: rows need no I/O, so each `next()` is an already resolved
   * promise (a million rows a run), except when pacing or the wall clock makes it wait.
   */
  [Symbol.asyncIterator](): AsyncIterator<RawRow> {
    const stream = new SyntheticTickStream(this.options);
    const { ratePerS: rate, live, startMs, intervalMs } = this.options;
    const every = rate === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.round(rate / PACING_CHECKS_PER_S));
    const startedMs = performance.now();
    const lastTsMs = new Map<string, number>();
    let n = 0;
    const done: IteratorResult<RawRow> = { done: true, value: undefined };
    const row = (tick: PriceTick): IteratorResult<RawRow> => {
      n++;
      return { done: false, value: new SyntheticRow(tick, n) };
    };
    const take = (): IteratorResult<RawRow> => {
      const tick = stream.next();
      return tick === undefined ? done : row(tick);
    };
    // The step the clock is in, but never the commodity's previous one again; waits until the clock is there.
    const takeLive = async (): Promise<IteratorResult<RawRow>> => {
      const tick = stream.next();
      if (tick === undefined) return done;
      const clockStepMs = startMs + Math.floor((Date.now() - startMs) / intervalMs) * intervalMs;
      const tsMs = Math.max(clockStepMs, (lastTsMs.get(tick.commodity) ?? Number.NEGATIVE_INFINITY) + intervalMs);
      for (let aheadMs = tsMs - Date.now(); aheadMs > 0; aheadMs = tsMs - Date.now()) await sleep(aheadMs);
      lastTsMs.set(tick.commodity, tsMs);
      return row({ ...tick, tsMs });
    };
    const next = live ? takeLive : (): Promise<IteratorResult<RawRow>> => Promise.resolve(take());
    return {
      next: (): Promise<IteratorResult<RawRow>> => {
        if (rate !== undefined && n % every === 0) {
          // Due times come from the start, not from the previous tick, so that pacing does not drift.
          const aheadMs = startedMs + (n * 1000) / rate - performance.now();
          if (aheadMs > 1) return sleep(aheadMs).then(next);
        }
        return next();
      },
      return: (): Promise<IteratorResult<RawRow>> => Promise.resolve(done),
    };
  }
}
