/** Timeouts for the gateway's I/O that has none of its own (Redis commands, Postgres queries). */

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** `promise`, or a TimeoutError naming `what` after `timeoutMs` (immediately when the budget is spent). */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  if (!(timeoutMs > 0)) {
    // The late result (or failure) is of no interest any more; keep it observed.
    promise.catch(() => undefined);
    return Promise.reject(new TimeoutError(`no time left to ask ${what}`));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${Math.round(timeoutMs)} ms`)), timeoutMs);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
