/**
 * `carbon start`: the platform. Cluster mode (the default here) runs the node:cluster primary, which forks
 * `carbon worker` processes against the real services; `--embedded` (what `npm start` runs) is the one-process
 * platform on embedded stores. `carbon worker` runs one worker alone (the primary's children, or a pod's process).
 *
 * The platform's modules take seconds to load (gRPC, Kafka, PGlite and the whole actor tree), so they are loaded
 * only once the configuration is known to be good: a missing or bad variable stops a start in well under a second.
 */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { loadGatewayConfig } from '../../gateway/gateway-config.ts';
import { loadTenantsFile } from '../../gateway/tenants.ts';
import { clusterServices, loadConfig } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';

/** The real prices shipped with the repository (WTI, Brent, Henry Hub daily; gold monthly). */
const SHIPPED_DATA = fileURLToPath(new URL('../../data/', import.meta.url));

interface StartOptions {
  readonly embedded?: boolean;
  /** A folder, or false with --no-data. */
  readonly data: string | false;
  readonly commodities: number;
  readonly rate: number;
  readonly history: number;
  readonly seed: number;
  readonly trees: number;
}

function positiveNumber(flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number, got ${JSON.stringify(raw)}`);
    return n;
  };
}

function positiveInt(flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
    return n;
  };
}

export function registerStartCommands(program: Command): void {
  program
    .command('start')
    .description('run the platform: a cluster primary forking CARBON_WORKERS workers, or with --embedded all in one process')
    .option('--embedded', 'one process on embedded stores (PGlite, in-process bus, memory) unless KAFKA_BROKERS, DATABASE_URL or REDIS_URL are set; what `npm start` runs')
    .option('--data <folder>', 'embedded: the real prices served beside the synthetic feed (Date,Price CSV files)', SHIPPED_DATA)
    .option('--no-data', 'embedded: the synthetic feed alone')
    .option('--commodities <n>', 'embedded synthetic feed: commodities SYN_001..', positiveInt('--commodities'), 8)
    .option('--rate <ticks/s>', 'embedded synthetic feed: live ticks per second over all commodities', positiveNumber('--rate'), 20)
    .option('--history <steps>', 'embedded synthetic feed: steps of history published at the first start, for the first models', positiveInt('--history'), 1_500)
    .option('--seed <n>', 'embedded synthetic feed: seed (same seed, same prices)', positiveInt('--seed'), 42)
    .option('--trees <n>', 'embedded: trees of the first models trained at start', positiveInt('--trees'), 50)
    .addHelpText('after', `
Environment (cluster mode): KAFKA_BROKERS, DATABASE_URL and REDIS_URL are required;
CARBON_WORKERS (default: cores), CARBON_METRICS_PORT (default 9464), CARBON_CHAOS=true enables
POST /chaos/crash?commodity=WTI on the metrics port. Every setting: docs/operations/configuration.md.
Before forking, the primary checks every setting (a bad one: exit status 2, naming it) and that Kafka,
Postgres and Redis answer within CARBON_CONNECT_TIMEOUT (default 5s; one that does not: exit status 69,
naming it with its address). \`carbon status\` shows a running cluster.

Example:
  KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
  REDIS_URL=redis://127.0.0.1:6379 npx carbon start`)
    .action(async (opts: StartOptions) => {
      const config = loadConfig();
      if (opts.embedded) {
        const log = logger.child({ role: 'embedded' });
        log.info('starting', { mode: 'embedded', dataDir: config.dataDir, realPrices: opts.data === false ? 'none' : opts.data });
        const { runEmbedded } = await import('../../supervisors/embedded/embedded-platform.ts');
        process.exitCode = await runEmbedded(config, {
          dataFolder: opts.data === false ? undefined : opts.data,
          feed: { seed: opts.seed, commodities: opts.commodities, ratePerS: opts.rate, historySteps: opts.history, momentum: 0.3 },
          bootstrapTrees: opts.trees,
          statusPeriodMs: 5_000,
        }, log);
        return;
      }
      if (opts.data !== SHIPPED_DATA && opts.data !== false) throw new InvalidArgumentError('--data needs --embedded (a cluster reads its prices from Kafka: use carbon ingest)');
      if (cluster.isPrimary) {
        // Everything a worker reads is checked here, before one is forked: a ConfigError exits 2 naming the variable.
        const services = clusterServices(config);
        // The tenants file too: a bad one would otherwise stop each worker only once it had reached the database.
        const { tokensFile } = loadGatewayConfig(config);
        if (tokensFile !== undefined) loadTenantsFile(tokensFile);
        const log = logger.child({ role: 'primary' });
        log.info('starting', { mode: 'cluster', workers: config.cluster.workers });
        const { runClusterPrimary } = await import('../../supervisors/cluster/cluster-primary.ts');
        process.exitCode = await runClusterPrimary({ config, services, log, workerArgs: ['worker'] });
      }
    });

  program
    .command('worker')
    .description('run one worker process (normally forked by `carbon start`)')
    .action(async () => {
      const config = loadConfig();
      const log = logger.child({ role: 'worker', slot: process.env.CARBON_WORKER_SLOT ?? '0' });
      const { runWorkerProcess } = await import('../../supervisors/worker/worker-process.ts');
      const code = await runWorkerProcess({ config, log });
      process.exit(code);
    });
}
