/**
 * The worker's side of the chaos control (only with CARBON_CHAOS=true): crash an actor now, or mark a tick as
 * poison so that it crashes its actor every time it is processed.
 */
import type { PoisonRules } from '../../actors/commodity/protocol.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ChaosCommand } from '../cluster/chaos-command.ts';
import type { WorkerPipeline } from './worker-pipeline.ts';

export class PoisonTicks implements PoisonRules {
  private readonly poisoned = new Set<string>();

  add(commodity: string, tsMs: number): void {
    this.poisoned.add(`${commodity}@${tsMs}`);
  }

  isPoison(tick: PriceTick): boolean {
    return this.poisoned.size > 0 && this.poisoned.has(`${tick.commodity}@${tick.tsMs}`);
  }
}

/** Applies the command; true when this worker acted on it. */
export function applyChaos(cmd: ChaosCommand, pipeline: WorkerPipeline | undefined, poison: PoisonTicks, partitionOf: (c: string) => number, log: Logger): boolean {
  if (cmd.action === 'poison') {
    if (cmd.commodity === undefined || cmd.poisonTsMs === undefined) {
      log.warn('chaos_command_invalid', { cmd, why: 'poison needs a commodity and poisonTsMs' });
      return false;
    }
    poison.add(cmd.commodity, cmd.poisonTsMs);
    log.warn('chaos_poison_set', { commodity: cmd.commodity, tsMs: cmd.poisonTsMs });
    return true;
  }
  if (!pipeline) {
    log.warn('chaos_command_ignored', { cmd, why: 'the worker is still starting' });
    return false;
  }
  const crashed = pipeline.crash(cmd.commodity, partitionOf);
  if (crashed) log.warn('chaos_crash_sent', { commodity: cmd.commodity ?? 'random' });
  return crashed;
}
