/**
 * Which offset of a partition may be committed: every message before it is finished (its outputs durable, or
 * it is in a DLQ). Messages begin in offset order and finish in any order (commodities run side by side).
 */
export class OffsetTracker {
  private readonly order: number[] = [];
  private head = 0;
  private readonly finished = new Set<number>();
  private waiters: Array<() => void> = [];
  /** The offset after the last message begun; what to commit once nothing is outstanding. */
  private next: number | undefined;

  begin(offset: number): void {
    this.order.push(offset);
    this.next = offset + 1;
  }

  finish(offset: number): void {
    this.finished.add(offset);
    while (this.head < this.order.length && this.finished.has(this.order[this.head] as number)) {
      this.finished.delete(this.order[this.head] as number);
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    if (this.outstanding() === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  outstanding(): number {
    return this.order.length - this.head;
  }

  /** The offset to commit (Kafka's convention: the next one to read), or undefined when nothing was begun. */
  committable(): number | undefined {
    return this.head < this.order.length ? this.order[this.head] : this.next;
  }

  /** Resolves when every begun message is finished. */
  idle(): Promise<void> {
    return this.outstanding() === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
