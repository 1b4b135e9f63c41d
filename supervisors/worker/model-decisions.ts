/**
 * The registry decisions that commodity actors call for, run off the tick path: promoting a challenger that beat
 * its champion in the shadow (announced on model-updates, so every worker reloads the commodity), and retraining
 * a commodity whose live distribution moved away from its training rows (at most once per cooldown, one at a
 * time per worker, on worker threads). Every decision is logged and counted; none is retried in place.
 */
import type { ModelDecisions, PromotionRequest } from '../../actors/commodity/protocol.ts';
import type { ModelRegistry } from '../../actors/model/registry.ts';
import { threadedForestTrainer } from '../../actors/training/forest-trainer.ts';
import { resolveTrainParams } from '../../actors/training/train-params.ts';
import { trainCommodities } from '../../actors/training/train-job.ts';
import type { SqlQuery } from '../../connectors/postgres/sql-store.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { retrains, shadowPromotions } from '../../platform/metrics.ts';

export interface ModelDecisionsDeps {
  readonly registry: ModelRegistry;
  readonly sql: SqlQuery;
  readonly config: Config['models'];
  readonly log: Logger;
}

export interface RunningDecisions extends ModelDecisions {
  /** Waits for the decisions under way (a worker stopping). */
  settle(): Promise<void>;
}

export function modelDecisions(deps: ModelDecisionsDeps): RunningDecisions {
  const running = new Set<Promise<void>>();
  const lastRetrain = new Map<string, number>();
  let retraining = false;
  // Each decision handles its own failure, so a tracked promise never rejects; settle() awaits the ones under way.
  const track = (work: Promise<void>): void => {
    const tracked: Promise<void> = work.finally(() => running.delete(tracked));
    running.add(tracked);
  };

  function promote(r: PromotionRequest): void {
    const evidence = { ...r.evidence, challengerFamily: r.family, championVersion: r.championVersion };
    if (!deps.config.autoPromote) {
      deps.log.info('challenger_would_be_promoted', { commodity: r.commodity, horizonTicks: r.horizonTicks, version: r.version, ...evidence, note: 'CARBON_AUTO_PROMOTE is off: promote it with carbon models promote' });
      return;
    }
    const reason =
      `challenger ${r.family} v${r.version} beat champion v${r.championVersion} in the shadow over ${r.evidence.outcomes} live outcomes: ` +
      `mean interval score ${r.evidence.meanIntervalScore.toPrecision(4)} vs ${r.evidence.championMeanIntervalScore.toPrecision(4)}, ` +
      `Diebold-Mariano ${r.evidence.dieboldMarianoStatistic.toFixed(2)} (p = ${r.evidence.dieboldMarianoP.toFixed(4)})`;
    track(
      deps.registry
        .promote(r.version, { actor: 'shadow-scoring', reason, expectedActiveVersion: r.championVersion, previousBecomes: 'shadow', evidence })
        .then(
          ({ announced }) => {
            shadowPromotions.inc({ outcome: 'promoted' });
            deps.log.info('challenger_promoted', { commodity: r.commodity, horizonTicks: r.horizonTicks, version: r.version, announced, ...evidence });
          },
          (err: unknown) => {
            shadowPromotions.inc({ outcome: 'refused' });
            deps.log.error('challenger_promotion_failed', { commodity: r.commodity, horizonTicks: r.horizonTicks, version: r.version, err });
          },
        ),
    );
  }

  function retrain(commodity: string, reason: string): void {
    const now = Date.now();
    const last = lastRetrain.get(commodity);
    if (deps.config.retrainCooldownMs === 0 || retraining || (last !== undefined && now - last < deps.config.retrainCooldownMs)) {
      retrains.inc({ outcome: 'skipped' });
      return;
    }
    lastRetrain.set(commodity, now);
    retraining = true;
    deps.log.warn('retrain_started', { commodity, reason });
    const params = resolveTrainParams({ horizons: deps.config.horizons });
    track(
      trainCommodities([commodity], params, { sql: deps.sql, registry: deps.registry, train: threadedForestTrainer(params.forest), log: deps.log, actor: 'shift-retrain' })
        .then(
          (outcomes) => {
            const failed = outcomes.filter((o) => !o.ok);
            retrains.inc({ outcome: failed.length === 0 ? 'done' : 'failed' });
            deps.log.info('retrain_done', { commodity, champions: outcomes.flatMap((o) => (o.ok ? [`${o.horizonTicks}:${o.champion.family}:v${o.champion.version}`] : [])), failed: failed.length });
          },
          (err: unknown) => {
            retrains.inc({ outcome: 'failed' });
            deps.log.error('retrain_failed', { commodity, err });
          },
        )
        .finally(() => {
          retraining = false;
        }),
    );
  }

  return {
    promote,
    retrain,
    async settle() {
      await Promise.all([...running]);
    },
  };
}
