/**
 * Coalescing of identical reads in flight: a caller asking for `key` while a read of it is running (and will
 * settle within the caller's own deadline) gets that read's result instead of starting another. Under load many
 * calls ask for the same few commodities at once; each owner is then asked once per round trip instead of once
 * per call. The answer is the owner's state at a moment during that read, which started at most one round trip
 * before the joining call: still the owner's latest, as any answer is by the time it reaches the client.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, { readonly deadlineMs: number; readonly result: Promise<T> }>();

  /**
   * `read()` for `key`, or the running read of `key` when that one's deadline is not after `deadlineMs`
   * (a read that may take longer than the caller may wait is not joined: the caller starts its own).
   */
  run(key: string, deadlineMs: number, read: () => Promise<T>): Promise<T> {
    const current = this.running.get(key);
    if (current !== undefined && current.deadlineMs <= deadlineMs) return current.result;
    const result = read();
    const entry = { deadlineMs, result };
    this.running.set(key, entry);
    const forget = () => {
      if (this.running.get(key) === entry) this.running.delete(key);
    };
    result.then(forget, forget);
    return result;
  }

  /** Reads running now (for tests). */
  get size(): number {
    return this.running.size;
  }
}
