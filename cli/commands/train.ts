/**
 * `carbon train`: fits every forecaster family per commodity and horizon from the feature store, scores them
 * walk-forward on the same rows, puts each horizon's champion into service and the others into the shadow
 * (announcing the change on model-updates when KAFKA_BROKERS is set), and records a run that trained every
 * commodity on the Pushgateway at CARBON_PUSHGATEWAY_URL when it is set. Also the options and connections that
 * `carbon backtest` and `carbon models` share, and the Pushgateway push of the batch jobs (ingest too). Exit
 * status: 0 every commodity and horizon trained, 1 one failed, 2 bad option or configuration.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import client, { type Metric } from 'prom-client';
import { isValidCommodityId } from '../../actors/ingest/commodity-id.ts';
import { ModelRegistry, type ModelUpdatePublisher } from '../../actors/model/registry.ts';
import { listFeatureCommodities } from '../../actors/training/feature-store-reader.ts';
import { sequentialForestTrainer, threadedForestTrainer } from '../../actors/training/forest-trainer.ts';
import { FAMILIES, REFERENCE_FAMILY } from '../../actors/forecast/forecaster.ts';
import { formatEvaluation } from '../../actors/training/metrics-text.ts';
import { outcomeTable } from '../../actors/training/train-summary.ts';
import { modelUpdatePublisher } from '../../actors/training/model-update-publisher.ts';
import { storedMetrics, trainCommodities, type TrainOutcome } from '../../actors/training/train-job.ts';
import { DEFAULT_TRAIN_PARAMS, resolveTrainParams, TrainParamsError, type TrainParams } from '../../actors/training/train-params.ts';
import type { TrainRegressors } from '../../actors/training/walk-forward.ts';
import type { CompactForest } from '../../actors/model/forest/compact-forest.ts';
import { kafkaFromConfig, prepareTopics } from '../../connectors/kafka/client.ts';
import { kafkaProducer } from '../../connectors/kafka/kafka-producer.ts';
import { topicNames } from '../../connectors/kafka/topics.ts';
import type { MessageProducer } from '../../connectors/message-bus.ts';
import { sqlModelStore } from '../../actors/model/model-store.ts';
import { ConfigError, loadConfig, type Config } from '../../platform/config.ts';
import { openPlatformDatabase } from './database.ts';
import { logger } from '../../platform/logger.ts';
import { createProgress } from '../../platform/progress.ts';

const log = logger.child({ component: 'train' });

export function parseCommodityId(value: string): string {
  const id = value.trim().toUpperCase();
  if (!isValidCommodityId(id)) throw new InvalidArgumentError('expected a commodity id such as WTI or HENRY_HUB');
  return id;
}

function parseIntAtLeast(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function parseFraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('expected a number in (0, 1]');
  return n;
}

function parseHorizons(value: string): number[] {
  const items = value.split(',').map((v) => v.trim());
  if (items.some((v) => !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 365)) throw new InvalidArgumentError('expected horizons in ticks, 1 to 365, separated by commas (e.g. 1,5,20)');
  return items.map(Number);
}

function parseFamilies(value: string): string[] {
  const items = value.split(',').map((v) => v.trim());
  const bad = items.find((v) => !(FAMILIES as readonly string[]).includes(v));
  if (bad !== undefined) throw new InvalidArgumentError(`unknown family ${JSON.stringify(bad)}: expected some of ${FAMILIES.join(', ')}`);
  return items;
}

export interface ModelOptions {
  horizons: number[];
  families: string[];
  trees: number;
  depth: number;
  maxFeatures: number;
  minLeaf: number;
  seed: number;
  folds: number;
  threads?: number;
  json?: boolean;
}

/** The forest and walk-forward options of `train` and `backtest`, defaults from DEFAULT_TRAIN_PARAMS. */
export function withModelOptions(cmd: Command): Command {
  const d = DEFAULT_TRAIN_PARAMS;
  return cmd
    .option('--horizons <list>', 'horizons in ticks, each with a champion of its own (default: CARBON_HORIZONS, 1,5,20)', parseHorizons)
    .option('--families <list>', `forecaster families to evaluate (${REFERENCE_FAMILY} is always among them)`, parseFamilies, [...d.families])
    .option('--trees <n>', 'trees per forest', parseIntAtLeast(1), d.forest.trees)
    .option('--depth <n>', 'deepest level of a tree', parseIntAtLeast(1), d.forest.maxDepth)
    .option('--max-features <fraction>', 'share of the inputs drawn at each split', parseFraction, d.forest.maxFeatures)
    .option('--min-leaf <rows>', 'fewest training rows in a leaf', parseIntAtLeast(1), d.forest.minSamplesLeaf)
    .option('--seed <n>', 'seed: the same data and seed give the same forests', parseIntAtLeast(0), d.forest.seed)
    .option('--folds <n>', 'walk-forward test blocks', parseIntAtLeast(1), d.walkForward.folds)
    .option('--threads <n>', 'worker threads for the forests (default: cores - 1; 0 trains on this thread)', parseIntAtLeast(0))
    .option('--json', 'print the results as JSON lines on stdout');
}

export function trainParamsFrom(o: ModelOptions, config: Config): TrainParams {
  try {
    return resolveTrainParams({
      horizons: o.horizons ?? config.models.horizons,
      families: o.families,
      forest: { trees: o.trees, maxDepth: o.depth, maxFeatures: o.maxFeatures, minSamplesLeaf: o.minLeaf, seed: o.seed },
      walkForward: { folds: o.folds },
    });
  } catch (err) {
    if (err instanceof TrainParamsError) throw fail(2, `carbon: ${err.message}`, undefined);
    throw err;
  }
}

export function forestTrainer(params: TrainParams, threads: number | undefined): TrainRegressors<CompactForest> {
  return threads === 0 ? sequentialForestTrainer(params.forest) : threadedForestTrainer(params.forest, threads);
}

/** The model-updates publisher over Kafka when KAFKA_BROKERS is set; undefined (not announced) otherwise. */
export async function openPublisher(config: Config): Promise<{ publisher: ModelUpdatePublisher; producer: MessageProducer } | undefined> {
  if (config.kafkaBrokers === undefined) return undefined;
  const kafka = kafkaFromConfig(config);
  const topics = topicNames(config.kafka.topicPrefix);
  await prepareTopics(kafka, topics, config.kafka.topicPartitions);
  const producer = await kafkaProducer(kafka);
  return { publisher: modelUpdatePublisher(producer, topics.modelUpdates), producer };
}

/**
 * Where a batch run (the ingest and train CronJobs) pushes its metrics at its end: CARBON_PUSHGATEWAY_URL, an
 * http(s) URL, checked when the run starts so that a typo fails at once rather than after the work; undefined
 * when unset (no push).
 */
export function pushgatewayUrl(env: Record<string, string | undefined> = process.env): string | undefined {
  const raw = env.CARBON_PUSHGATEWAY_URL;
  if (raw === undefined || raw === '') return undefined;
  const protocol = URL.canParse(raw) ? new URL(raw).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') throw new ConfigError('CARBON_PUSHGATEWAY_URL', 'the http(s) URL of a Prometheus Pushgateway', raw);
  return raw;
}

/**
 * Ends a successful batch run by pushing `metrics` (this run's own counters) to the Pushgateway under `job`,
 * replacing the previous run's (PUT): Prometheus cannot scrape a process that has exited, and the Pushgateway's
 * push_time_seconds{job} says when the job last succeeded. A failed push is logged and does not fail the run: its
 * work is done, and a push_time_seconds that stops moving is what the monitoring watches.
 */
export async function pushRunMetrics(url: string | undefined, job: 'carbon-ingest' | 'carbon-train', metrics: readonly Metric[]): Promise<void> {
  if (url === undefined) return;
  const registry = new client.Registry();
  for (const metric of metrics) registry.registerMetric(metric);
  try {
    await new client.Pushgateway(url, { timeout: 10_000 }, registry).push({ jobName: job });
    log.info('run_metrics_pushed', { job, pushgateway: url });
  } catch (err) {
    log.error('run_metrics_push_failed', { job, pushgateway: url, err });
  }
}

export function operatorName(given: string | undefined): string {
  return given ?? process.env.USER ?? 'operator';
}

/** Prints the message (carbon.ts exits with a CommanderError's code without printing it) and logs the cause. */
export function fail(exitCode: number, message: string, cause: unknown): CommanderError {
  process.stderr.write(`${message}\n`);
  if (cause !== undefined) log.error('command_failed', { err: cause });
  return new CommanderError(exitCode, 'carbon.ml', message);
}

function outcomeJson(o: TrainOutcome): object {
  if (!o.ok) return { commodity: o.commodity, horizonTicks: o.horizonTicks, error: o.error.message };
  return {
    commodity: o.commodity,
    horizonTicks: o.horizonTicks,
    champion: o.champion,
    families: o.families,
    skill: o.forecasts.finals.get(o.champion.family)!.forecaster.spec.skill,
    metrics: storedMetrics(o.forecasts),
    announced: o.announced,
  };
}

export function registerTrainCommand(program: Command): void {
  withModelOptions(
    program
      .command('train')
      .description('fit every forecaster family per commodity and horizon, score them walk-forward, serve each horizon\'s champion')
      .option('--commodity <id>', 'the commodity to train (see --all)', parseCommodityId)
      .option('--all', 'every commodity in the feature store, forests spread over worker threads')
      .option('--details', 'after the summary, every family\'s walk-forward scores per commodity and horizon'),
  )
    .addHelpText('after', `
For each commodity and horizon h: training rows from the feature store (inputs at tick t, label ln(p[t+h] /
p[t]); rows without every input, without a label yet or at a non-positive price are left out and counted),
and every forecaster family fitted and scored on the same walk-forward rows (expanding window, embargo of h
rows): no_change and drift (with volatility-scaled quantiles), this commodity's RandomForest, and a forest
pooled over every commodity trained in the run. Each gives quantiles, a point forecast and a calibrated
probability of a rise. no_change is the champion unless another family has a lower pinball loss by a
Diebold-Mariano test at p < 0.05 and an interval score no worse; the champion goes into service, the others
into the shadow, where they forecast every live tick and take over if they do better (docs/operations/models.md).

Environment: DATABASE_URL (required), KAFKA_BROKERS (to announce the changes on model-updates),
CARBON_HORIZONS (the horizons, default 1,5,20), CARBON_PUSHGATEWAY_URL (optional: when every commodity
trained, the run is recorded on this Pushgateway).
Exit status: 0 every commodity and horizon trained, 1 one failed (too few rows, say), 2 bad option or config.

Examples:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon carbon train --commodity WTI
  carbon train --all --details
  carbon train --commodity GOLD --horizons 1,3 --families no_change,forest --trees 100 --seed 7
  carbon train --all --threads 2 --json`)
    .action(async (opts: ModelOptions & { commodity?: string; all?: boolean; details?: boolean }) => {
      if ((opts.commodity === undefined) === (opts.all !== true)) throw fail(2, 'carbon train: give either --commodity <id> or --all', undefined);
      const config = loadConfig();
      const params = trainParamsFrom(opts, config);
      const pushTo = pushgatewayUrl();
      const sql = await openPlatformDatabase(config, 4);
      let bus: Awaited<ReturnType<typeof openPublisher>>;
      try {
        bus = await openPublisher(config);
      } catch (err) {
        await sql.close();
        throw fail(4, `carbon train: Kafka (KAFKA_BROKERS) failed: ${(err as Error).message}`, err);
      }
      const progress = createProgress({ label: 'train', unit: 'forests' });
      try {
        const commodities = opts.all ? await listFeatureCommodities(sql) : [opts.commodity!];
        if (commodities.length === 0) throw fail(1, 'carbon train: the feature store holds no commodity', undefined);
        const registry = new ModelRegistry(sqlModelStore(sql), bus?.publisher);
        let seenTotal = false;
        const outcomes = await trainCommodities(commodities, params, {
          sql,
          registry,
          train: forestTrainer(params, opts.threads),
          log,
          actor: 'trainer',
          onForest: (done, total) => {
            if (!seenTotal) progress.setTotal(total);
            seenTotal = true;
            progress.add(1);
          },
        });
        progress.stop({ commodities: commodities.length });
        if (opts.json) {
          for (const o of outcomes) process.stdout.write(`${JSON.stringify(outcomeJson(o))}\n`);
        } else {
          if (opts.details) {
            for (const o of outcomes) if (o.ok) process.stdout.write(`${o.commodity}\n${formatEvaluation(storedMetrics(o.forecasts), o.horizonTicks)}\n\n`);
          }
          const announced = outcomes.some((o) => o.ok && o.announced);
          process.stdout.write(`${outcomeTable(outcomes).join('\n')}\n`);
          process.stdout.write(
            announced
              ? 'Announced on model-updates: the workers serve the champions from their next tick.\n'
              : bus === undefined
                ? 'Not announced (KAFKA_BROKERS not set): running workers load the champions when they next start.\n'
                : '',
          );
        }
        if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
        // Training has no counters of its own yet: the push records the time of the last run that trained all.
        else await pushRunMetrics(pushTo, 'carbon-train', []);
      } finally {
        progress.stop();
        await bus?.producer.close();
        await sql.close();
      }
    });
}
