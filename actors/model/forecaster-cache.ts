/**
 * The forecasters of one worker, per commodity it serves (a champion per horizon and the challengers in the
 * shadow): loaded from the registry when a commodity actor (re)builds, reloaded when `model-updates` announces a
 * change of the commodity's models. A reload replaces a reference between two ticks (JavaScript runs one tick at
 * a time), so no tick is dropped or reordered by it; the listener then tells the commodity's actor, which
 * forecasts its latest tick with the new champions at once.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../platform/logger.ts';
import { modelSwaps, modelTrainedTimestamp, modelVersion } from '../../platform/metrics.ts';
import type { ModelUpdate } from '../../proto/gen/carbon/v1/model_update.ts';
import type { ForecasterLookup, ServingSet } from '../commodity/protocol.ts';
import type { ModelRegistry } from './registry.ts';

export class ForecasterCache implements ForecasterLookup {
  private readonly serving = new Map<string, ServingSet>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Commodities already asked for (with or without models), so a rebuild does not ask Postgres again. */
  private readonly known = new Set<string>();
  private listener: ((commodity: string) => void) | undefined;

  constructor(private readonly registry: ModelRegistry, private readonly log: Logger) {}

  /** Called after a commodity's forecasters were reloaded (one listener: the worker's pipeline). */
  onChange(listener: (commodity: string) => void): void {
    this.listener = listener;
  }

  servingFor(commodity: string): ServingSet | undefined {
    return this.serving.get(commodity);
  }

  /** The champion version of a horizon, 0 when none. */
  championVersion(commodity: string, horizonTicks: number): number {
    return this.serving.get(commodity)?.champions.find((c) => c.forecaster.horizonTicks === horizonTicks)?.version ?? 0;
  }

  /** Loads the commodity's forecasters once; models that cannot serve are logged and left out. */
  ensureLoaded(commodity: string): Promise<void> {
    if (this.known.has(commodity)) return Promise.resolve();
    let pending = this.loading.get(commodity);
    if (!pending) {
      // A failure leaves the commodity unknown, so the actor's next rebuild (after its restart) tries again.
      pending = this.load(commodity)
        .then(() => {
          this.known.add(commodity);
        })
        .finally(() => this.loading.delete(commodity));
      this.loading.set(commodity, pending);
    }
    return pending;
  }

  private async load(commodity: string): Promise<void> {
    const started = performance.now();
    const { served, refused } = await this.registry.loadServing(commodity);
    for (const err of refused) this.log.error('model_unusable', { commodity, err });
    const set: ServingSet = {
      champions: served.filter((s) => s.status === 'active').sort((a, b) => a.forecaster.horizonTicks - b.forecaster.horizonTicks),
      shadows: served.filter((s) => s.status === 'shadow'),
    };
    const before = this.serving.get(commodity);
    for (const c of before?.champions ?? []) {
      if (!set.champions.some((n) => n.forecaster.horizonTicks === c.forecaster.horizonTicks)) this.forgetGauges(commodity, c.forecaster.horizonTicks);
    }
    if (served.length === 0) this.serving.delete(commodity);
    else this.serving.set(commodity, set);
    for (const c of set.champions) {
      const labels = { commodity, horizon: String(c.forecaster.horizonTicks) };
      modelVersion.set(labels, c.version);
      modelTrainedTimestamp.set(labels, c.trainedAtMs / 1000);
    }
    if (served.length > 0) {
      this.log.debug('forecasters_loaded', {
        commodity,
        champions: set.champions.map((c) => `${c.forecaster.horizonTicks}:${c.forecaster.family}:v${c.version}`),
        shadows: set.shadows.length,
        ms: Math.round(performance.now() - started),
      });
    }
  }

  /**
   * Applies an announced change: reloads the commodity's forecasters, whether or not this worker owns it (a
   * degraded answer for a commodity owned elsewhere uses them).
   */
  async apply(update: ModelUpdate): Promise<void> {
    await this.load(update.commodity);
    this.known.add(update.commodity);
    modelSwaps.inc();
    this.listener?.(update.commodity);
  }

  /** The partition went elsewhere: forget its commodities so that their gauges do not linger here. */
  release(commodity: string): void {
    for (const c of this.serving.get(commodity)?.champions ?? []) this.forgetGauges(commodity, c.forecaster.horizonTicks);
    this.serving.delete(commodity);
    this.known.delete(commodity);
  }

  private forgetGauges(commodity: string, horizonTicks: number): void {
    const labels = { commodity, horizon: String(horizonTicks) };
    modelVersion.remove(labels);
    modelTrainedTimestamp.remove(labels);
  }
}
