/**
 * One assigned partition of the prices topic: its ledgers (one per commodity), its offset tracker, and the
 * partition supervisor actor that spawns a commodity actor per commodity on demand and restarts it under
 * `commodityActorPolicy`. The ledgers live outside the actors, so that restarts at either level lose nothing:
 * a restarted actor rebuilds its window and goes on from its ledger's head.
 */
import { performance } from 'node:perf_hooks';
import { commodityBehaviour, RebuildError } from '../../actors/commodity/commodity-actor.ts';
import { decodeTick } from '../../actors/commodity/decode-tick.ts';
import { CommodityLedger, type PendingTick } from '../../actors/commodity/ledger.ts';
import type { CommodityMsg, CommoditySnapshot, ForecasterLookup, ModelDecisions, PoisonRules } from '../../actors/commodity/protocol.ts';
import { ShadowBook } from '../../actors/commodity/shadow-book.ts';
import type { SinkPort } from '../../actors/sinks/tick-outputs.ts';
import type { IncomingRecord } from '../../connectors/kafka/price-consumer.ts';
import type { HistoryStore } from '../../actors/commodity/history-port.ts';
import type { Logger } from '../../platform/logger.ts';
import { mailboxDepth } from '../../platform/metrics.ts';
import { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import { commodityActorPolicy, partitionSupervisorPolicy } from '../policies.ts';
import type { CrashInfo } from '../supervise.ts';
import { usageMeter } from '../../platform/usage-meter.ts';
import { dispatchTo, liveChild, queryWithTimeout, spawnTyped, stopActor, type ParentRef, type TypedRef } from '../typed-actors.ts';
import type { DeadLetterPort } from './dead-letters.ts';
import { OffsetTracker } from './offset-tracker.ts';

export type PartitionMsg =
  /** From the worker after ticks were appended to these commodities' ledgers; no reply. */
  | { readonly type: 'ticksAppended'; readonly commodities: readonly string[] }
  /** From the chaos control: crash the commodity's actor (a random one when undefined); no reply. */
  | { readonly type: 'crashCommodity'; readonly commodity: string | undefined };

export interface PartitionDeps {
  readonly topic: string;
  readonly windowSize: number;
  readonly zScoreThreshold: number;
  readonly maxMessageBytes: number;
  readonly poisonMaxTries: number;
  readonly sink: SinkPort;
  readonly history: HistoryStore;
  readonly forecasters: ForecasterLookup;
  readonly decisions: ModelDecisions;
  readonly poison: PoisonRules | undefined;
  readonly deadLetters: DeadLetterPort;
  readonly log: Logger;
}

/** Lifecycle of an assignment: `running` while the group gives it to us, `draining` during a hand-off. */
export type PartitionState = 'running' | 'draining' | 'stopped';

export class PartitionAssignment {
  readonly ledgers = new Map<string, CommodityLedger>();
  /** Each commodity's shadow scores, beside its ledger (they survive the actor's restarts the same way). */
  private readonly books = new Map<string, ShadowBook>();
  readonly tracker = new OffsetTracker();
  readonly ref: TypedRef<PartitionMsg>;
  state: PartitionState = 'running';
  private failure: ((err: unknown) => void) | undefined;
  private readonly log: Logger;

  constructor(readonly partition: number, parent: ParentRef, private readonly deps: PartitionDeps) {
    this.log = deps.log.child({ partition });
    this.ref = spawnTyped<Map<string, TypedRef<CommodityMsg>>, PartitionMsg>(parent, {
      name: `partition-${partition}`,
      level: 'partition',
      policy: partitionSupervisorPolicy,
      initialState: () => new Map(),
      handle: (children, msg, ctx) => this.handle(children, msg, ctx.self),
      // Restarted (its children were stopped with it): respawn every commodity that still has work.
      replayAfterRestart: () => [{ type: 'ticksAppended', commodities: this.commoditiesWithWork() }],
    });
  }

  private commoditiesWithWork(): string[] {
    return [...this.ledgers.values()].filter((l) => l.pendingCount() > 0).map((l) => l.commodity);
  }

  private ledgerOf(commodity: string): CommodityLedger {
    let ledger = this.ledgers.get(commodity);
    if (!ledger) {
      ledger = new CommodityLedger(commodity, this.deps.windowSize);
      this.ledgers.set(commodity, ledger);
    }
    return ledger;
  }

  private handle(children: Map<string, TypedRef<CommodityMsg>>, msg: PartitionMsg, self: TypedRef<PartitionMsg>): Map<string, TypedRef<CommodityMsg>> {
    switch (msg.type) {
      case 'ticksAppended':
        for (const commodity of msg.commodities) {
          let child = children.get(commodity);
          if (!child) {
            child = this.spawnCommodity(self, commodity);
            children.set(commodity, child);
          }
          dispatchTo(child, { type: 'drain' });
        }
        return children;
      case 'crashCommodity': {
        const names = [...children.keys()];
        const target = msg.commodity ?? names[Math.floor(Math.random() * names.length)];
        const child = target === undefined ? undefined : children.get(target);
        if (child) dispatchTo(child, { type: 'crash', reason: `chaos control crashed ${target}` });
        return children;
      }
      default: {
        const unknown: never = msg;
        throw new Error(`partition supervisor got an unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  private bookOf(commodity: string): ShadowBook {
    let book = this.books.get(commodity);
    if (!book) {
      book = new ShadowBook();
      this.books.set(commodity, book);
    }
    return book;
  }

  private spawnCommodity(parent: TypedRef<PartitionMsg>, commodity: string): TypedRef<CommodityMsg> {
    const ledger = this.ledgerOf(commodity);
    const behaviour = commodityBehaviour({
      commodity,
      partition: this.partition,
      windowSize: this.deps.windowSize,
      zScoreThreshold: this.deps.zScoreThreshold,
      ledger,
      book: this.bookOf(commodity),
      sink: this.deps.sink,
      history: this.deps.history,
      forecasters: this.deps.forecasters,
      decisions: this.deps.decisions,
      poison: this.deps.poison,
      log: this.log,
      finished: (entry) => this.tracker.finish(entry.seq),
      rejected: (entry, reason, detail) => this.deadLetter(entry, reason, detail),
      reply: (replyTo, value) => dispatchTo(replyTo, value),
    });
    return spawnTyped<ReturnType<typeof behaviour.initialState>, CommodityMsg>(parent, {
      name: commodity,
      level: 'commodity',
      policy: commodityActorPolicy,
      initialState: behaviour.initialState,
      handle: (state, msg) => behaviour.handle(state, msg),
      onBusy: (us) => usageMeter.commodity(commodity, { actorCpuUs: us }),
      onCrashed: (info) => this.blameTick(ledger, info),
      // Whatever crashed, rebuild and go on from the ledger's head at once, ahead of the rest of the mailbox (the
      // recovery time, crash to this drain processed, includes the window rebuild).
      replayAfterRestart: () => [{ type: 'drain' }],
    });
  }

  /**
   * A crash while draining is the head tick's doing (unless reading the stores failed). After
   * `poisonMaxTries` crashes the tick goes to the DLQ and the commodity goes on without it.
   */
  private blameTick(ledger: CommodityLedger, info: CrashInfo): void {
    const msgType = (info.msg as { type?: unknown } | undefined)?.type;
    if (info.phase !== 'message' || msgType !== 'drain' || info.err instanceof RebuildError) return;
    const head = ledger.head();
    if (!head) return;
    head.crashes++;
    head.lastError = info.err;
    if (head.crashes < this.deps.poisonMaxTries) return;
    ledger.shift();
    const err = info.err instanceof Error ? `${info.err.name}: ${info.err.message}` : String(info.err);
    this.deadLetter(head, 'poison', `crashed its actor ${head.crashes} times; last error ${err}`);
  }

  private deadLetter(entry: PendingTick, reason: string, detail: string): void {
    this.sendToDlq(entry.seq, Buffer.from(entry.tick.commodity), Buffer.from(PriceTick.encode(entry.tick).finish()), reason, detail);
  }

  private sendToDlq(offset: number, key: Buffer | null, value: Buffer | null, reason: string, detail: string): void {
    this.log.warn('message_dead_lettered', { offset, reason, detail });
    this.deps.deadLetters
      .send({ partition: this.partition, offset, key, value, reason, detail })
      .then(() => this.tracker.finish(offset), (err: unknown) => this.failure?.(err));
  }

  /** Feeds a batch (in offset order) to the actors. */
  accept(records: readonly IncomingRecord[]): void {
    const touched = new Set<string>();
    const fetchedAt = performance.now();
    for (const r of records) {
      this.tracker.begin(r.offset);
      const decoded = decodeTick(r, this.deps.maxMessageBytes);
      if (!decoded.ok) {
        this.sendToDlq(r.offset, r.key, r.value, decoded.reason, decoded.detail);
        continue;
      }
      this.ledgerOf(decoded.tick.commodity).append({ seq: r.offset, tick: decoded.tick, fetchedAtMs: fetchedAt, crashes: 0 });
      touched.add(decoded.tick.commodity);
    }
    if (touched.size > 0) dispatchTo(this.ref, { type: 'ticksAppended', commodities: [...touched] });
  }

  /** Ticks handed to the actors and not yet finished (the backpressure measure). */
  inFlight(): number {
    return this.tracker.outstanding();
  }

  /** Resolves when everything accepted so far is finished; rejects if a DLQ write failed. */
  finished(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.failure = reject;
      this.tracker.idle().then(resolve, reject);
    });
  }

  /**
   * The commodity actor's snapshot, or undefined when no actor of this partition runs for it (no tick since the
   * partition came here, or stopped). Asked of the actor directly: through the partition supervisor, every
   * question took one more message and one more turn of the event loop.
   */
  snapshot(commodity: string, timeoutMs: number): Promise<CommoditySnapshot | undefined> {
    const actor = liveChild<CommodityMsg>(this.ref, commodity);
    if (actor === undefined) return Promise.resolve(undefined);
    return queryWithTimeout(actor, (replyTo) => ({ type: 'getSnapshot' as const, replyTo }), timeoutMs);
  }

  /** The commodity's forecasters changed: its actor (if one runs here) forecasts its latest tick with them. */
  forecastersChanged(commodity: string): void {
    const actor = liveChild<CommodityMsg>(this.ref, commodity);
    if (actor !== undefined) dispatchTo(actor, { type: 'forecastersChanged' });
  }

  /** Chaos control; false when the partition has no actor for it. */
  crashCommodity(commodity: string | undefined): boolean {
    if (commodity !== undefined && !this.ledgers.has(commodity)) return false;
    return dispatchTo(this.ref, { type: 'crashCommodity', commodity });
  }

  pendingInLedgers(): number {
    let n = 0;
    for (const l of this.ledgers.values()) n += l.inFlightCount();
    return n;
  }

  stop(): void {
    this.state = 'stopped';
    stopActor(this.ref);
    mailboxDepth.set(0);
  }
}
