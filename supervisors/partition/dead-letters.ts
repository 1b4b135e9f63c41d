/** Where the partition sends what it cannot process: the DLQ of the prices topic, with the reason. */
export interface DeadLetter {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  /** The original bytes (or, for a tick that crashed its actor, the tick re-encoded losslessly). */
  readonly value: Buffer | null;
  readonly reason: string;
  readonly detail: string;
}

export interface DeadLetterPort {
  /** Resolves when the record is durable in the DLQ. */
  send(record: DeadLetter): Promise<void>;
}
