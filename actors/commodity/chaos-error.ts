/** The error the chaos control injects: its `code` makes restarts by chaos countable apart from real crashes. */
export class ChaosError extends Error {
  override readonly name = 'ChaosError';
  readonly code = 'chaos';
}
