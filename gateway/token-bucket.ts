/**
 * A token bucket: `ratePerSecond` tokens flow in, at most `burst` are held; a call takes one. Pure arithmetic
 * over a caller-given clock (milliseconds), so that it is tested without waiting.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(readonly ratePerSecond: number, readonly burst: number, nowMs: number) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs rate > 0 and burst >= 1, got ${ratePerSecond}/s burst ${burst}`);
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes a token: 0 when granted, else how many milliseconds until one is there. */
  take(nowMs: number): number {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1_000);
      this.lastMs = nowMs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1_000) / this.ratePerSecond);
  }
}
