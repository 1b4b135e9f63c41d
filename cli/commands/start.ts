/**
 * `carbon start`: the platform. Cluster mode (the default here) runs the node:cluster primary, which forks
 * `carbon worker` processes against the real services; `--embedded` (what `npm start` runs) is the one-process
 * platform on embedded stores. `carbon worker` runs one worker alone (the primary's children, or a pod's process).
 */
import cluster from 'node:cluster';
import type { Command } from 'commander';
import { loadConfig } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';
import { runClusterPrimary } from '../../supervisors/cluster/cluster-primary.ts';
import { runWorkerProcess } from '../../supervisors/worker/worker-process.ts';

export function registerStartCommands(program: Command): void {
  program
    .command('start')
    .description('run the platform: a cluster primary forking CARBON_WORKERS workers (default: one per core)')
    .addHelpText('after', `
Environment (cluster mode): KAFKA_BROKERS, DATABASE_URL and REDIS_URL are required;
CARBON_WORKERS (default: cores), CARBON_METRICS_PORT (default 9464), CARBON_CHAOS=true enables
POST /chaos/crash?commodity=WTI on the metrics port.

Example:
  KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
  REDIS_URL=redis://127.0.0.1:6379 npx carbon start`)
    .action(async () => {
      const config = loadConfig();
      if (cluster.isPrimary) {
        process.exitCode = await runClusterPrimary({ config, log: logger.child({ role: 'primary' }), workerArgs: ['worker'] });
      }
    });

  program
    .command('worker')
    .description('run one worker process (normally forked by `carbon start`)')
    .action(async () => {
      const config = loadConfig();
      const log = logger.child({ role: 'worker', slot: process.env.CARBON_WORKER_SLOT ?? '0' });
      const code = await runWorkerProcess({ config, log });
      process.exit(code);
    });
}
