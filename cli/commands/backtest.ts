/**
 * `carbon backtest`: the walk-forward evaluation of one commodity from the feature store, printed beside the
 * naive baselines and optionally written as a self-contained HTML report. Saves no model.
 * Exit status: 0 done, 1 failed, 2 bad option or configuration.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { renderBacktestReport } from '../../actors/training/backtest-report.ts';
import { formatWalkForward } from '../../actors/training/metrics-text.ts';
import { backtestCommodity } from '../../actors/training/train-job.ts';
import { loadConfig } from '../../platform/config.ts';
import { createProgress } from '../../platform/progress.ts';
import { fail, forestTrainer, openDatabase, parseCommodityId, trainParamsFrom, withModelOptions, type ModelOptions } from './train.ts';

export function registerBacktestCommand(program: Command): void {
  withModelOptions(
    program
      .command('backtest')
      .description('walk-forward evaluation of a commodity against the naive baselines, with an HTML report')
      .requiredOption('--commodity <id>', 'the commodity to evaluate', parseCommodityId)
      .option('--report <file.html>', 'write the report (one self-contained HTML page with charts) to this file'),
  )
    .addHelpText('after', `
Scores, on rows no model saw: directional accuracy with the Pesaran-Timmermann test, MAE and MASE against the
no-change forecast, coverage of the 80 % interval, beside the majority-class and no-change baselines. Every
figure that a baseline beats is marked. The same evaluation decides promotions in \`carbon train\`.

Environment: DATABASE_URL (required).

Examples:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon carbon backtest --commodity WTI --report wti.html
  carbon backtest --commodity GOLD --trees 50 --depth 6 --json`)
    .action(async (opts: ModelOptions & { commodity: string; report?: string }) => {
      const params = trainParamsFrom(opts);
      const sql = await openDatabase(loadConfig());
      const progress = createProgress({ label: 'backtest', unit: 'forests', total: params.walkForward.folds });
      try {
        const { set, result } = await backtestCommodity(sql, opts.commodity, params, forestTrainer(params, opts.threads), () => progress.add(1));
        progress.stop();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ commodity: opts.commodity, excluded: set.excluded, metrics: result.metrics })}\n`);
        } else {
          process.stdout.write(`${opts.commodity}\n${formatWalkForward(result.metrics, set.excluded)}\n`);
        }
        if (opts.report !== undefined) {
          const html = renderBacktestReport({
            commodity: opts.commodity,
            params,
            metrics: result.metrics,
            series: result.series,
            excluded: set.excluded,
            generatedAtMs: Date.now(),
          });
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
