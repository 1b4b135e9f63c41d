/**
 * The partition supervisor actor: hands each commodity its ticks (spawning its actor on the commodity's first tick)
 * and restarts commodity actors under `commodityActorPolicy`. A restarted actor gets the ticks that its crash
 * dropped again, at the front of its mailbox, unless the one at their head has now crashed it `poisonMaxTries`
 * times: that one is dead-lettered and the commodity goes on. A restarted supervisor (its actors were stopped with
 * it) hands out every tick that is not settled yet; a delivery that arrives twice is passed over by the actor.
 */
import { commodityBehaviour, RebuildError } from '../../actors/commodity/commodity-actor.ts';
import type { CommodityLedger } from '../../actors/commodity/ledger.ts';
import type { CommodityMsg, TickDelivery, TickOutcomes } from '../../actors/commodity/protocol.ts';
import type { ShadowBook } from '../../actors/commodity/shadow-book.ts';
import type { Logger } from '../../platform/logger.ts';
import { usageMeter } from '../../platform/usage-meter.ts';
import { commodityActorPolicy, partitionSupervisorPolicy } from '../policies.ts';
import type { CrashInfo } from '../supervise.ts';
import type { TypedRef } from '../../actors/typed-ref.ts';
import { dispatchTo, spawnTyped, type DroppedMessage, type ParentRef } from '../typed-actors.ts';
import type { PartitionDeps } from './partition.ts';
import type { PartitionMsg } from './partition-protocol.ts';

/** What the supervisor needs of its partition: the memory that outlives the actors, and where outcomes go. */
export interface PartitionContext {
  readonly partition: number;
  readonly deps: PartitionDeps;
  readonly log: Logger;
  readonly outcomes: TickOutcomes;
  ledgerOf(commodity: string): CommodityLedger;
  bookOf(commodity: string): ShadowBook;
  /** The ticks handed out and not settled, by commodity in offset order. */
  unsettledByCommodity(): Map<string, TickDelivery[]>;
  /** Counts a crash of the tick's actor on it. */
  blame(offset: number, err: unknown): void;
  /** The crashes the tick has caused so far. */
  crashesOf(offset: number): number;
  /** Settles a tick that crashed its actor too often as a dead letter. */
  poisoned(delivery: TickDelivery): void;
}

/** The first tick of a `ticks` message that is not settled: the one the actor was working on when it crashed. */
function culprit(msg: CommodityMsg | undefined, outcomes: TickOutcomes): TickDelivery | undefined {
  if (msg?.type !== 'ticks') return undefined;
  return msg.ticks.find((d) => !outcomes.isSettled(d.offset));
}

function spawnCommodity(parent: TypedRef<PartitionMsg>, ctx: PartitionContext, commodity: string): TypedRef<CommodityMsg> {
  const { deps } = ctx;
  const behaviour = commodityBehaviour({
    commodity,
    partition: ctx.partition,
    windowSize: deps.windowSize,
    zScoreThreshold: deps.zScoreThreshold,
    ledger: ctx.ledgerOf(commodity),
    book: ctx.bookOf(commodity),
    outcomes: ctx.outcomes,
    history: deps.history,
    forecasters: deps.forecasters,
    decisions: deps.decisions,
    poison: deps.poison,
    log: ctx.log,
    reply: (replyTo, value) => dispatchTo(replyTo, value),
  });
  return spawnTyped<ReturnType<typeof behaviour.initialState>, CommodityMsg>(parent, {
    name: commodity,
    level: 'commodity',
    policy: commodityActorPolicy,
    initialState: behaviour.initialState,
    handle: (state, msg) => behaviour.handle(state, msg),
    onBusy: (us) => usageMeter.commodity(commodity, { actorCpuUs: us }),
    // A crash while processing ticks is the first unsettled tick's doing, unless reading the stores failed.
    onCrashed: (info: CrashInfo) => {
      if (info.phase !== 'message' || info.err instanceof RebuildError) return;
      const tick = culprit(info.msg as CommodityMsg | undefined, ctx.outcomes);
      if (tick !== undefined) ctx.blame(tick.offset, info.err);
    },
    // The dropped ticks again, ahead of the rest of the mailbox; or, with none, a rebuild at once, so that the actor
    // is ready before its next tick (the recovery time, crash to this message, includes the rebuild).
    replayAfterRestart: (dropped: DroppedMessage<CommodityMsg> | undefined): CommodityMsg[] => {
      const msg = dropped?.msg;
      if (msg?.type !== 'ticks') return [{ type: 'rebuild' }];
      let remaining = msg.ticks.filter((d) => !ctx.outcomes.isSettled(d.offset));
      const head = remaining[0];
      if (head !== undefined && ctx.crashesOf(head.offset) >= deps.poisonMaxTries) {
        ctx.poisoned(head);
        remaining = remaining.slice(1);
      }
      return remaining.length > 0 ? [{ type: 'ticks', ticks: remaining }] : [{ type: 'rebuild' }];
    },
  });
}

export function spawnPartitionSupervisor(parent: ParentRef, name: string, ctx: PartitionContext): TypedRef<PartitionMsg> {
  return spawnTyped<Map<string, TypedRef<CommodityMsg>>, PartitionMsg>(parent, {
    name,
    level: 'partition',
    policy: partitionSupervisorPolicy,
    initialState: () => new Map(),
    // Its one message: a fetched batch's ticks, to each commodity's actor (spawned on the commodity's first tick).
    handle: (children, { byCommodity }, { self }) => {
      for (const [commodity, ticks] of byCommodity) {
        let child = children.get(commodity);
        if (!child) {
          child = spawnCommodity(self, ctx, commodity);
          children.set(commodity, child);
        }
        dispatchTo(child, { type: 'ticks', ticks });
      }
      return children;
    },
    // Restarted (its actors were stopped with it, their mailboxes gone): every unsettled tick again.
    replayAfterRestart: () => [{ type: 'deliver', byCommodity: ctx.unsettledByCommodity() }],
  });
}
