/**
 * A partition's messages between fetch and commit, in offset order, each with its outcome once known. Messages are
 * taken in offset order and settled in any order (commodities run side by side); the commit cycle takes the settled
 * ones at the head, writes them, commits the offset after the last one taken, and marks them committed. So an offset
 * is committed only once every message before it has its outcome written and published in the same commit.
 */
import type { TickDelivery } from '../../actors/commodity/protocol.ts';
import type { TickOutputs } from '../../actors/sinks/tick-outputs.ts';
import type { DeadLetter } from './dead-letters.ts';

/** What a message comes to, to be written and committed with its offset. */
export type Settled =
  | { readonly kind: 'outputs'; readonly outputs: TickOutputs }
  | { readonly kind: 'dead_letter'; readonly letter: DeadLetter }
  /** Nothing to write (a duplicate tick): only its offset is committed. */
  | { readonly kind: 'nothing' };

export interface InFlightEntry {
  readonly offset: number;
  /** performance.now() when fetched. */
  readonly fetchedAtMs: number;
  /** The decoded tick handed to its actor; undefined when the decode gate refused the message (settled at once). */
  readonly delivery: TickDelivery | undefined;
  /** The message's bytes as fetched: a dead letter decided after delivery (a past tick, poison) carries them. */
  readonly fetched: { readonly key: Buffer | null; readonly value: Buffer | null };
  settled: Settled | undefined;
  /** Crashes of its actor that this message caused so far, and the last one's error (for the DLQ record). */
  crashes: number;
  lastError?: unknown;
}

/** What one commit takes from the log: settled messages in offset order, and outputs tied to no offset. */
export interface Take {
  readonly entries: readonly InFlightEntry[];
  readonly extras: readonly TickOutputs[];
  /** The offset to commit (Kafka's convention: the next one to read), or undefined when no message was taken. */
  readonly commitOffset: number | undefined;
}

type Waiter = { readonly done: () => boolean; readonly resolve: () => void };

export class InFlightLog {
  private entries: InFlightEntry[] = [];
  private head = 0;
  private readonly byOffset = new Map<number, InFlightEntry>();
  private extras: TickOutputs[] = [];
  private unsettled = 0;
  /** Taken by a commit and not yet written to the stores, and not yet committed. */
  private unwritten = 0;
  private uncommitted = 0;
  private waiters: Waiter[] = [];
  private commitSignal: Promise<void> | undefined;
  private signalCommit: () => void = () => undefined;

  begin(entry: InFlightEntry): void {
    this.entries.push(entry);
    if (entry.settled === undefined) {
      this.byOffset.set(entry.offset, entry);
      this.unsettled++;
    }
  }

  /** Records the outcome of the message at `offset`; false when it is not in flight or already settled. */
  settle(offset: number, settled: Settled): boolean {
    const entry = this.byOffset.get(offset);
    if (entry === undefined) return false;
    this.byOffset.delete(offset);
    entry.settled = settled;
    this.unsettled--;
    this.wake();
    return true;
  }

  isSettled(offset: number): boolean {
    return !this.byOffset.has(offset);
  }

  extra(outputs: TickOutputs): void {
    this.extras.push(outputs);
  }

  /** The settled messages at the head (at most `maxEntries`) and the extras, or undefined when there is nothing to commit. */
  take(maxEntries: number): Take | undefined {
    const start = this.head;
    while (this.head < this.entries.length && this.head - start < maxEntries && this.entries[this.head]?.settled !== undefined) this.head++;
    const entries = this.entries.slice(start, this.head);
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    const extras = this.extras;
    if (entries.length === 0 && extras.length === 0) return undefined;
    this.extras = [];
    this.unwritten += entries.length + extras.length;
    this.uncommitted += entries.length + extras.length;
    const last = entries[entries.length - 1];
    return { entries, extras, commitOffset: last === undefined ? undefined : last.offset + 1 };
  }

  /** The take's outputs are in the stores. */
  written(take: Take): void {
    this.unwritten -= take.entries.length + take.extras.length;
    this.wake();
  }

  /** The take's messages and offset are committed. */
  committed(take: Take): void {
    this.uncommitted -= take.entries.length + take.extras.length;
    this.wake();
    this.fireCommitSignal();
  }

  private fireCommitSignal(): void {
    if (this.commitSignal === undefined) return;
    this.commitSignal = undefined;
    this.signalCommit();
  }

  /** Messages taken and not committed yet (the backpressure measure: what the partition holds in memory). */
  inFlight(): number {
    return this.entries.length - this.head + this.uncommitted;
  }

  unsettledCount(): number {
    return this.unsettled;
  }

  /** The ticks not settled yet, by commodity in offset order: what a restarted partition supervisor hands out again. */
  unsettledByCommodity(): Map<string, TickDelivery[]> {
    const out = new Map<string, TickDelivery[]>();
    for (let i = this.head; i < this.entries.length; i++) {
      const delivery = (this.entries[i] as InFlightEntry).delivery;
      if (delivery === undefined || this.isSettled(delivery.offset)) continue;
      const list = out.get(delivery.tick.commodity);
      if (list) list.push(delivery);
      else out.set(delivery.tick.commodity, [delivery]);
    }
    return out;
  }

  /** The entry at `offset` while it is unsettled (crash counting). */
  unsettledEntry(offset: number): InFlightEntry | undefined {
    return this.byOffset.get(offset);
  }

  private nothingLeft(): boolean {
    return this.head === this.entries.length && this.extras.length === 0;
  }

  /** Resolves once every message taken so far is settled (the hand-off's drain). */
  whenSettled(): Promise<void> {
    return this.until(() => this.unsettled === 0);
  }

  /** Resolves once every message is settled and its outputs are in the stores (the hand-off's flush). */
  whenWritten(): Promise<void> {
    return this.until(() => this.nothingLeft() && this.unwritten === 0);
  }

  /** Resolves once nothing is in flight: everything committed (the hand-off's commit). */
  whenCommitted(): Promise<void> {
    return this.until(() => this.nothingLeft() && this.uncommitted === 0);
  }

  /** Resolves at the next commit (or drop): one promise shared by every caller until then. */
  nextCommit(): Promise<void> {
    this.commitSignal ??= new Promise<void>((resolve) => {
      this.signalCommit = resolve;
    });
    return this.commitSignal;
  }

  /**
   * Forgets everything: the partition's uncommitted work is dropped (it was lost). Pending waits resolve; their
   * callers look at the partition's state.
   */
  drop(): void {
    this.entries = [];
    this.head = 0;
    this.byOffset.clear();
    this.extras = [];
    this.unsettled = 0;
    this.unwritten = 0;
    this.uncommitted = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
    this.fireCommitSignal();
  }

  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.done()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
