/** What a partition cannot process, bound for the DLQ of the prices topic with the reason (committed with its offset). */
export interface DeadLetter {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  /** The original bytes (or, for a tick refused by its actor, the tick re-encoded losslessly). */
  readonly value: Buffer | null;
  readonly reason: string;
  readonly detail: string;
}
