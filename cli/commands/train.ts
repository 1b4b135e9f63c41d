/**
 * `carbon train`: trains a model per commodity from the feature store, scores it walk-forward against the
 * naive baselines, saves it in the registry and promotes it only when the promotion rule passes (announcing the
 * promotion on model-updates when KAFKA_BROKERS is set), and records a run that trained every commodity on the
 * Pushgateway at CARBON_PUSHGATEWAY_URL when it is set. Also the options and connections that `carbon backtest`
 * and `carbon models` share, and the Pushgateway push of the batch jobs (ingest too). Exit status: 0 every
 * commodity trained (promoted or rejected), 1 a commodity failed, 2 bad option or configuration.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import client, { type Metric } from 'prom-client';
import { isValidCommodityId } from '../../actors/ingest/commodity-id.ts';
import { ModelRegistry, type ModelUpdatePublisher } from '../../actors/model/registry.ts';
import { listFeatureCommodities } from '../../actors/training/feature-store-reader.ts';
import { sequentialForestTrainer, threadedForestTrainer } from '../../actors/training/forest-trainer.ts';
import { formatWalkForward } from '../../actors/training/metrics-text.ts';
import { modelUpdatePublisher } from '../../actors/training/model-update-publisher.ts';
import { trainCommodities, type CommodityOutcome } from '../../actors/training/train-job.ts';
import { DEFAULT_TRAIN_PARAMS, resolveTrainParams, TrainParamsError, type TrainParams } from '../../actors/training/train-params.ts';
import type { TrainRegressors } from '../../actors/training/walk-forward.ts';
import type { CompactForest } from '../../actors/model/forest/compact-forest.ts';
import { kafkaFromConfig, prepareTopics } from '../../connectors/kafka/client.ts';
import { kafkaProducer } from '../../connectors/kafka/kafka-producer.ts';
import { topicNames } from '../../connectors/kafka/topics.ts';
import type { MessageProducer } from '../../connectors/message-bus.ts';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { sqlModelStore } from '../../connectors/postgres/model-store.ts';
import { postgresStore, type SqlStore } from '../../connectors/postgres/sql-store.ts';
import { ConfigError, loadConfig, type Config } from '../../platform/config.ts';
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

export interface ModelOptions {
  horizon: number;
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
    .option('--horizon <ticks>', 'label: forward log return over this many ticks', parseIntAtLeast(1), d.horizonTicks)
    .option('--trees <n>', 'trees per forest', parseIntAtLeast(1), d.forest.trees)
    .option('--depth <n>', 'deepest level of a tree', parseIntAtLeast(1), d.forest.maxDepth)
    .option('--max-features <fraction>', 'share of the inputs drawn at each split', parseFraction, d.forest.maxFeatures)
    .option('--min-leaf <rows>', 'fewest training rows in a leaf', parseIntAtLeast(1), d.forest.minSamplesLeaf)
    .option('--seed <n>', 'seed: the same data and seed give the same forests', parseIntAtLeast(0), d.forest.seed)
    .option('--folds <n>', 'walk-forward test blocks', parseIntAtLeast(1), d.walkForward.folds)
    .option('--threads <n>', 'worker threads for the forests (default: cores - 1; 0 trains on this thread)', parseIntAtLeast(0))
    .option('--json', 'print the results as JSON lines on stdout');
}

export function trainParamsFrom(o: ModelOptions): TrainParams {
  try {
    return resolveTrainParams({
      horizonTicks: o.horizon,
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

/** The registry database, migrated; DATABASE_URL is required. */
export async function openDatabase(config: Config): Promise<SqlStore> {
  if (config.databaseUrl === undefined) {
    throw new ConfigError('DATABASE_URL', 'a postgres:// URL (this command reads the feature store and the model registry)', '');
  }
  const sql = postgresStore(config.databaseUrl, 4);
  try {
    await migrate(sql);
  } catch (err) {
    await sql.close();
    throw err;
  }
  return sql;
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

function describeOutcome(o: CommodityOutcome, announcing: boolean): string {
  if (!o.ok) return `${o.commodity}: FAILED: ${o.error.message.replace(`${o.commodity}: `, '')}`;
  const head =
    o.status === 'active'
      ? `${o.commodity}: v${o.version} PROMOTED, in service${o.comparedWithVersion === null ? '' : ` (replaces v${o.comparedWithVersion})`}; ` +
        (o.announced ? 'announced on model-updates' : announcing ? 'not announced' : 'not announced (KAFKA_BROKERS not set: workers load it when they next start)')
      : `${o.commodity}: v${o.version} REJECTED, saved but not in service${o.comparedWithVersion === null ? '' : ` (v${o.comparedWithVersion} stays)`}`;
  const checks = o.decision.checks.map((c) => `  ${c.passed ? 'pass' : 'FAIL'}  ${c.detail}`);
  return [head, formatWalkForward(o.metrics, o.set.excluded), '  promotion rule:', ...checks.map((c) => `  ${c}`),
    `  model: ${(o.modelBytes / 1024).toFixed(0)} KiB, interval +-${o.intervalHalfWidth.toFixed(4)} (log return)`].join('\n');
}

export function registerTrainCommand(program: Command): void {
  withModelOptions(
    program
      .command('train')
      .description('train, score and (if it beats the baselines and the model in service) promote a model per commodity')
      .option('--commodity <id>', 'the commodity to train (see --all)', parseCommodityId)
      .option('--all', 'every commodity in the feature store, forests spread over worker threads'),
  )
    .addHelpText('after', `
For each commodity: training rows from the feature store (inputs at tick t, label ln(p[t+h] / p[t]); rows
without every input, without a label yet or at a non-positive price are left out and counted), a walk-forward
evaluation (expanding window, embargo of h rows, 80 % split-conformal intervals), then the model to serve,
fitted on every row with the latest ones held out to calibrate its interval. It is saved as a candidate and
promoted only when, on the walk-forward rows, its MAE beats the no-change forecast (MASE < 1), its directional
accuracy beats the majority baseline, and it beats the model in service; otherwise it is saved as rejected
with the reasons (an audit row says why).

Environment: DATABASE_URL (required), KAFKA_BROKERS (to announce promotions on model-updates),
CARBON_PUSHGATEWAY_URL (optional: when every commodity trained, the run is recorded on this Pushgateway).
Exit status: 0 every commodity trained (promoted or rejected), 1 a commodity failed, 2 bad option or config.

Examples:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon carbon train --commodity WTI
  carbon train --commodity GOLD --horizon 3 --trees 200 --depth 8 --seed 7
  carbon train --all --threads 3 --json`)
    .action(async (opts: ModelOptions & { commodity?: string; all?: boolean }) => {
      if ((opts.commodity === undefined) === (opts.all !== true)) throw fail(2, 'carbon train: give either --commodity <id> or --all', undefined);
      const params = trainParamsFrom(opts);
      const config = loadConfig();
      const pushTo = pushgatewayUrl();
      const sql = await openDatabase(config);
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
        for (const o of outcomes) {
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(o.ok ? { commodity: o.commodity, version: o.version, status: o.status, decision: o.decision, metrics: o.metrics.pooled, excluded: o.set.excluded, announced: o.announced } : { commodity: o.commodity, error: o.error.message })}\n`
              : `${describeOutcome(o, bus !== undefined)}\n\n`,
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
