/**
 * Waits until `condition` holds, polling, instead of sleeping a fixed time: tests stay fast on a quiet machine and
 * do not flake on a busy one. Rejects with `what` once `timeoutMs` has passed.
 */
export interface EventuallyOptions {
  /** Says what was awaited, for the failure message. */
  what?: string;
  timeoutMs?: number;
  intervalMs?: number;
}

export async function eventually(
  condition: () => boolean | Promise<boolean>,
  { what = 'condition', timeoutMs = 10_000, intervalMs = 2 }: EventuallyOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`eventually: ${what} still false after ${timeoutMs} ms`);
    await new Promise<void>((resolve) => { setTimeout(resolve, intervalMs); });
  }
}
