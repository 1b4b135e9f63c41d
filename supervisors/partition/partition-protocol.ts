/**
 * The protocol of a partition: the messages of its supervisor actor, the lifecycle of an assignment, and the named
 * steps of its hand-off. Data flows one way: consumer -> partition (decode gate, in-flight log) -> partition
 * supervisor -> commodity actors -> their outcomes settled in the log -> the commit cycle (stores, then the topics
 * and the offset in one step) -> the log's committed mark. Nothing flows back to an actor.
 *
 * Hand-off of a revoked partition (a rebalance, a shutdown), one step after the other under one timeout:
 *
 * | step | what | done when |
 * |---|---|---|
 * | stop_taking | the partition refuses fetched batches (state `handing_off`) | at once |
 * | drain | the actors finish every tick already taken | every taken tick is settled |
 * | flush | the commit cycle writes their outputs to the stores | every settled outcome is written |
 * | commit | the commit cycle publishes their messages and commits the offset (one Kafka transaction) | nothing is left in flight |
 * | release | the actors stop, the forecasters and the partition's gauges go, the writer closes | state `released` |
 *
 * Past the timeout, or when the commit finds that another owner fenced the writer, the partition is `lost`: what it
 * had not committed is dropped unpublished, and the next owner processes it again from the committed offset.
 */
import type { TickDelivery } from '../../actors/commodity/protocol.ts';

export type PartitionMsg =
  /** From the partition: the ticks of a fetched batch, by commodity, in offset order; no reply. Spawns actors on demand. */
  { readonly type: 'deliver'; readonly byCommodity: ReadonlyMap<string, readonly TickDelivery[]> };

/** Lifecycle of one assignment of a partition to this worker. */
export type PartitionState =
  /** Assigned: fencing any previous owner's writer and reading the committed offset; fetched batches wait. */
  | 'opening'
  /** Taking fetched ticks, processing them, committing them. */
  | 'running'
  /** Revoked or shutting down: the hand-off runs; nothing new is taken. */
  | 'handing_off'
  /** Handed off: everything taken was committed; its actors are stopped. */
  | 'released'
  /** Fenced, evicted or timed out: what it had not committed was dropped, unpublished; its actors are stopped. */
  | 'lost';

/** The steps of a hand-off, in the order they run. */
export const HAND_OFF_STEPS = ['stop_taking', 'drain', 'flush', 'commit', 'release'] as const;
export type HandOffStep = (typeof HAND_OFF_STEPS)[number];
