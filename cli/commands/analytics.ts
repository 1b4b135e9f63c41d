/**
 * `carbon analytics refresh`: brings the analytics schema's prediction facts up to date (new predictions copied
 * in, outcomes that came due filled in; connectors/postgres/analytics-refresh.ts). Run every few minutes (the
 * cluster's CronJob carbon-analytics-refresh) or by hand before a query that needs the newest outcomes. Exit
 * status: 0 done, 1 the refresh failed, 2 bad option or configuration.
 */
import type { Command } from 'commander';
import { refreshAnalytics } from '../../connectors/postgres/analytics-refresh.ts';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { postgresStore } from '../../connectors/postgres/sql-store.ts';
import { ConfigError, loadConfig } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';

const log = logger.child({ component: 'analytics' });

export function registerAnalyticsCommand(program: Command): void {
  const analytics = program
    .command('analytics')
    .description('the analytics schema that Trino serves (docs/analytics.md)');

  analytics
    .command('refresh')
    .description('copy new predictions into the analytics schema and fill in the outcomes that came due (DATABASE_URL)')
    .addHelpText('after', `
An outcome is filled in once the tick its horizon names is stored and its time has passed, never before: a
refresh costs what changed since the last one. Each refresh is recorded in analytics.refreshes.

Example:
  DATABASE_URL=postgres://carbon@127.0.0.1:5432/carbon carbon analytics refresh`)
    .action(async () => {
      const config = loadConfig();
      if (config.databaseUrl === undefined) {
        throw new ConfigError('DATABASE_URL', 'a postgres:// URL (the database whose analytics schema to refresh)', '');
      }
      const store = postgresStore(config.databaseUrl, 1);
      try {
        await migrate(store);
        const r = await refreshAnalytics(store);
        log.info('analytics_refreshed', { predictions: r.predictions, outcomes: r.outcomes, duration_ms: Math.round(r.durationMs) });
        process.stdout.write(`analytics refreshed at ${r.refreshedAt.toISOString()}: ${r.predictions} new predictions, ${r.outcomes} outcomes filled in, ${(r.durationMs / 1000).toFixed(1)} s\n`);
      } finally {
        await store.close();
      }
    });
}
