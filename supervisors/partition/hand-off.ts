/**
 * The hand-off of a partition that this worker gives up (revoked by a rebalance, or the worker stopping), as one
 * sequence of named steps under one timeout (see partition-protocol.ts). Driven by the partition's state: each step
 * runs only while the partition is handing off; a partition found lost (its writer fenced) ends the sequence there.
 */
import { performance } from 'node:perf_hooks';
import type { Partition } from './partition.ts';
import { HAND_OFF_STEPS, type HandOffStep } from './partition-protocol.ts';

export interface HandOffDeps {
  /** Asks the commit cycle to run now rather than at its next interval. */
  flushNow(): void;
  /** Ends the assignment (`released`, or `lost` to drop what is not committed) and lets go of what it held. */
  finish(partition: Partition, state: 'released' | 'lost', reason: string): Promise<void>;
}

export interface HandOffResult {
  readonly state: 'released' | 'lost';
  /** Milliseconds each step took, for the steps that ran. */
  readonly stepsMs: Partial<Record<HandOffStep, number>>;
  /** Why it ended `lost`: the step that timed out, or that the partition was lost meanwhile. */
  readonly reason?: string;
}

export async function handOff(partition: Partition, deps: HandOffDeps, timeoutMs: number): Promise<HandOffResult> {
  const stepsMs: Partial<Record<HandOffStep, number>> = {};
  const work: Record<Exclude<HandOffStep, 'release'>, () => void | Promise<void>> = {
    stop_taking: () => {
      partition.state = 'handing_off';
    },
    drain: () => partition.inFlight.whenSettled(),
    flush: () => {
      deps.flushNow();
      return partition.inFlight.whenWritten();
    },
    commit: () => partition.inFlight.whenCommitted(),
  };
  let current: HandOffStep = 'stop_taking';
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const steps = (async (): Promise<'done' | 'lost'> => {
    for (const step of HAND_OFF_STEPS) {
      if (step === 'release') break;
      if (step !== 'stop_taking' && partition.state !== 'handing_off') return 'lost';
      current = step;
      const started = performance.now();
      await work[step]();
      stepsMs[step] = Math.round(performance.now() - started);
    }
    return partition.state === 'handing_off' ? 'done' : 'lost';
  })();
  const outcome = await Promise.race([steps, timedOut]);
  clearTimeout(timer);
  const started = performance.now();
  if (outcome === 'done') {
    await deps.finish(partition, 'released', 'handed_off');
    stepsMs.release = Math.round(performance.now() - started);
    return { state: 'released', stepsMs };
  }
  const reason = outcome === 'timeout' ? `timed out in step ${current} after ${timeoutMs} ms` : `lost during step ${current}`;
  await deps.finish(partition, 'lost', reason);
  stepsMs.release = Math.round(performance.now() - started);
  return { state: 'lost', stepsMs, reason };
}
