/**
 * `carbon backtest`: the walk-forward evaluation of every forecaster family of one commodity at every horizon,
 * from the feature store, printed side by side and optionally written as a self-contained HTML report. Saves no
 * model. Exit status: 0 done, 1 failed, 2 bad option or configuration.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { renderBacktestReport } from '../../actors/training/backtest-report.ts';
import { formatEvaluation } from '../../actors/training/metrics-text.ts';
import { backtestCommodity, storedMetrics } from '../../actors/training/train-job.ts';
import { loadConfig } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';
import { createProgress } from '../../platform/progress.ts';
import { fail, forestTrainer, parseCommodityId, trainParamsFrom, withModelOptions, type ModelOptions } from './train.ts';
import { openPlatformDatabase } from './database.ts';

export function registerBacktestCommand(program: Command): void {
  withModelOptions(
    program
      .command('backtest')
      .description('walk-forward evaluation of every forecaster family of a commodity, with an HTML report')
      .requiredOption('--commodity <id>', 'the commodity to evaluate', parseCommodityId)
      .option('--report <file.html>', 'write the report (one self-contained HTML page with charts) to this file'),
  )
    .addHelpText('after', `
Scores every family on the same rows no model of it saw, per horizon: the pinball loss of the quantiles, the
interval score and coverage of the 80 % interval (overall and in each volatility tercile), MAE and MASE
against the no-change forecast, the Brier score of the probability of a rise, directional accuracy with the
Pesaran-Timmermann test, and a volatility-blind fixed-width interval beside them. Every figure that no_change
beats is marked. The same evaluation chooses the champions in \`carbon train\`. The report adds a fan chart of
the champion's quantiles, coverage by volatility tercile and a reliability diagram of the probability.

Environment: DATABASE_URL (required).

Examples:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon carbon backtest --commodity WTI --report wti.html
  carbon backtest --commodity GOLD --horizons 1 --families no_change,drift,forest --json`)
    .action(async (opts: ModelOptions & { commodity: string; report?: string }) => {
      const config = loadConfig();
      const params = trainParamsFrom(opts, config);
      const sql = await openPlatformDatabase(config, 4);
      const progress = createProgress({ label: 'backtest', unit: 'forests' });
      let seenTotal = false;
      try {
        const results = await backtestCommodity(sql, opts.commodity, params, forestTrainer(params, opts.threads), logger.child({ component: 'backtest' }), (_done, total) => {
          if (!seenTotal) progress.setTotal(total);
          seenTotal = true;
          progress.add(1);
        });
        progress.stop();
        for (const r of results) {
          const metrics = storedMetrics(r);
          process.stdout.write(opts.json ? `${JSON.stringify({ commodity: opts.commodity, horizonTicks: r.horizonTicks, metrics })}\n` : `${opts.commodity}\n${formatEvaluation(metrics, r.horizonTicks)}\n\n`);
        }
        if (opts.report !== undefined) {
          const html = renderBacktestReport({ commodity: opts.commodity, params, forecasts: results, generatedAtMs: Date.now() });
          await writeFile(opts.report, html);
          process.stderr.write(`report written to ${opts.report} (${Math.round(html.length / 1024)} KiB)\n`);
        }
      } catch (err) {
        progress.stop({ failed: true });
        throw fail(1, `carbon backtest: ${(err as Error).message}`, err);
      } finally {
        await sql.close();
      }
    });
}
