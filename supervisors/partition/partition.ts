/**
 * One assignment of a partition of the prices topic to this worker: its writer (which fenced every earlier writer
 * of the partition when it opened), its in-flight log, the commodities' memory that outlives their actors (ledgers
 * and shadow books), and its supervisor actor. Fetched messages come in through `accept` (the decode gate, then the
 * actors); outcomes come back from the actors through `settle`; the commit cycle takes them from the log. Its
 * lifecycle is PartitionState (partition-protocol.ts).
 */
import { performance } from 'node:perf_hooks';
import { decodeTick } from '../../actors/commodity/decode-tick.ts';
import { CommodityLedger } from '../../actors/commodity/ledger.ts';
import type { CommoditySnapshot, CommodityMsg, ForecasterLookup, ModelDecisions, PoisonRules, TickDelivery, TickOutcome, TickOutcomes } from '../../actors/commodity/protocol.ts';
import { ShadowBook } from '../../actors/commodity/shadow-book.ts';
import type { HistoryStore } from '../../actors/commodity/history-port.ts';
import type { TickOutputs } from '../../actors/sinks/tick-outputs.ts';
import type { IncomingRecord } from '../../connectors/kafka/price-consumer.ts';
import type { Logger } from '../../platform/logger.ts';
import type { TypedRef } from '../../actors/typed-ref.ts';
import { dispatchTo, liveChild, queryWithTimeout, stopActor, type ParentRef } from '../typed-actors.ts';
import type { DeadLetter } from './dead-letters.ts';
import { InFlightLog, type InFlightEntry } from './in-flight-log.ts';
import type { PartitionMsg, PartitionState } from './partition-protocol.ts';
import { spawnPartitionSupervisor, type PartitionContext } from './partition-supervisor.ts';
import type { PartitionWriter } from './partition-writer.ts';

export interface PartitionDeps {
  readonly topic: string;
  readonly windowSize: number;
  readonly zScoreThreshold: number;
  readonly maxMessageBytes: number;
  readonly poisonMaxTries: number;
  readonly history: HistoryStore;
  readonly forecasters: ForecasterLookup;
  readonly decisions: ModelDecisions;
  readonly poison: PoisonRules | undefined;
  readonly log: Logger;
}

const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

let incarnations = 0;

export class Partition implements PartitionContext, TickOutcomes {
  state: PartitionState = 'opening';
  readonly inFlight = new InFlightLog();
  readonly log: Logger;
  /** The offset of the next message to take: the committed one once opened, then the one after the last taken. */
  nextOffset = 0;
  /** The partition's high watermark at the last fetch (for the lag gauge). */
  highWatermark = 0;
  /** This assignment's commits, one after the other in the order they were taken. */
  commitTail: Promise<void> = Promise.resolve();
  private writerOf: PartitionWriter | undefined;
  private supervisor: TypedRef<PartitionMsg> | undefined;
  private readonly ledgers = new Map<string, CommodityLedger>();
  private readonly books = new Map<string, ShadowBook>();
  readonly outcomes: TickOutcomes = this;

  constructor(readonly partition: number, private readonly parent: ParentRef, readonly deps: PartitionDeps) {
    this.log = deps.log.child({ partition });
  }

  /** Takes the partition with its writer: from the committed offset on, under a supervisor of its own. */
  open(writer: PartitionWriter): void {
    this.writerOf = writer;
    this.nextOffset = writer.startOffset;
    this.supervisor = spawnPartitionSupervisor(this.parent, `partition-${this.partition}-${++incarnations}`, this);
    this.state = 'running';
  }

  get writer(): PartitionWriter {
    if (this.writerOf === undefined) throw new Error(`partition ${this.partition} has no writer before it is opened`);
    return this.writerOf;
  }

  ledgerOf(commodity: string): CommodityLedger {
    let ledger = this.ledgers.get(commodity);
    if (!ledger) {
      ledger = new CommodityLedger(commodity, this.deps.windowSize);
      this.ledgers.set(commodity, ledger);
    }
    return ledger;
  }

  bookOf(commodity: string): ShadowBook {
    let book = this.books.get(commodity);
    if (!book) {
      book = new ShadowBook();
      this.books.set(commodity, book);
    }
    return book;
  }

  commodities(): string[] {
    return [...this.ledgers.keys()];
  }

  /**
   * Takes fetched messages (in offset order) from `nextOffset` on: those before it are this assignment's already,
   * or committed before it. Refused ones are settled at once as dead letters; ticks go to their actors.
   */
  accept(records: readonly IncomingRecord[]): void {
    if (this.state !== 'running' || this.supervisor === undefined) return;
    const fetchedAtMs = performance.now();
    const byCommodity = new Map<string, TickDelivery[]>();
    for (const r of records) {
      if (r.offset < this.nextOffset) continue;
      this.nextOffset = r.offset + 1;
      const decoded = decodeTick(r, this.deps.maxMessageBytes);
      if (!decoded.ok) {
        this.log.warn('message_dead_lettered', { offset: r.offset, reason: decoded.reason, detail: decoded.detail });
        const letter: DeadLetter = { partition: this.partition, offset: r.offset, key: r.key, value: r.value, reason: decoded.reason, detail: decoded.detail };
        this.inFlight.begin({ offset: r.offset, fetchedAtMs, delivery: undefined, fetched: r, settled: { kind: 'dead_letter', letter }, crashes: 0 });
        continue;
      }
      const delivery: TickDelivery = { offset: r.offset, tick: decoded.tick, fetchedAtMs };
      this.inFlight.begin({ offset: r.offset, fetchedAtMs, delivery, fetched: { key: r.key, value: r.value }, settled: undefined, crashes: 0 });
      const list = byCommodity.get(decoded.tick.commodity);
      if (list) list.push(delivery);
      else byCommodity.set(decoded.tick.commodity, [delivery]);
    }
    if (byCommodity.size > 0) dispatchTo(this.supervisor, { type: 'deliver', byCommodity });
  }

  settle(offset: number, outcome: TickOutcome): void {
    switch (outcome.kind) {
      case 'outputs':
        this.inFlight.settle(offset, outcome);
        return;
      case 'duplicate':
        this.inFlight.settle(offset, { kind: 'nothing' });
        return;
      case 'rejected':
        this.settleAsDeadLetter(offset, outcome.reason, outcome.detail);
        return;
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown tick outcome ${JSON.stringify(unknown)}`);
      }
    }
  }

  isSettled(offset: number): boolean {
    return this.inFlight.isSettled(offset);
  }

  extra(outputs: TickOutputs): void {
    this.inFlight.extra(outputs);
  }

  unsettledByCommodity(): Map<string, TickDelivery[]> {
    return this.inFlight.unsettledByCommodity();
  }

  blame(offset: number, err: unknown): void {
    const entry = this.inFlight.unsettledEntry(offset);
    if (entry === undefined) return;
    entry.crashes++;
    entry.lastError = err;
  }

  crashesOf(offset: number): number {
    return this.inFlight.unsettledEntry(offset)?.crashes ?? 0;
  }

  poisoned(delivery: TickDelivery): void {
    const entry: InFlightEntry | undefined = this.inFlight.unsettledEntry(delivery.offset);
    if (entry === undefined) return;
    this.settleAsDeadLetter(delivery.offset, 'poison', `crashed its actor ${entry.crashes} times; last error ${errorText(entry.lastError)}`);
  }

  private settleAsDeadLetter(offset: number, reason: string, detail: string): void {
    const entry = this.inFlight.unsettledEntry(offset);
    if (entry?.delivery === undefined) return;
    this.log.warn('message_dead_lettered', { offset, reason, detail });
    this.inFlight.settle(offset, {
      kind: 'dead_letter',
      letter: { partition: this.partition, offset, key: entry.fetched.key, value: entry.fetched.value, reason, detail },
    });
  }

  /**
   * The commodity actor's snapshot, or undefined when no actor of this partition runs for it (no tick since the
   * partition came here, or stopped). Asked of the actor directly: through the partition supervisor, every
   * question took one more message and one more turn of the event loop.
   */
  snapshot(commodity: string, timeoutMs: number): Promise<CommoditySnapshot | undefined> {
    const actor = this.supervisor === undefined ? undefined : liveChild<CommodityMsg>(this.supervisor, commodity);
    if (actor === undefined) return Promise.resolve(undefined);
    return queryWithTimeout(actor, (replyTo) => ({ type: 'getSnapshot' as const, replyTo }), timeoutMs);
  }

  /** The commodity's forecasters changed: its actor (if one runs here) forecasts its latest tick with them. */
  forecastersChanged(commodity: string): void {
    const actor = this.supervisor === undefined ? undefined : liveChild<CommodityMsg>(this.supervisor, commodity);
    if (actor !== undefined) dispatchTo(actor, { type: 'forecastersChanged' });
  }

  /**
   * Chaos control: the commodity's actor (a random one when undefined) crashes on its next message. False when no
   * actor of this partition runs for it, so that a crash announced is a crash that happens.
   */
  crashCommodity(commodity: string | undefined): boolean {
    const supervisor = this.supervisor;
    if (supervisor === undefined) return false;
    const running = (commodity === undefined ? this.commodities() : [commodity]).filter((c) => liveChild(supervisor, c) !== undefined);
    const target = running[Math.floor(Math.random() * running.length)];
    const actor = target === undefined ? undefined : liveChild<CommodityMsg>(supervisor, target);
    return actor !== undefined && dispatchTo(actor, { type: 'crash', reason: `chaos control crashed ${target}` });
  }

  /** Ends the assignment: `released` after a hand-off, `lost` when what was not committed is to be dropped. */
  end(state: 'released' | 'lost'): void {
    this.state = state;
    if (state === 'lost') this.inFlight.drop();
    if (this.supervisor !== undefined) stopActor(this.supervisor);
  }
}
