/**
 * `carbon models list|show|promote|rollback`: the model registry for operators. Promotions and rollbacks made
 * here are audited under the operator's name and announced on model-updates when KAFKA_BROKERS is set.
 * Exit status: 0 done, 2 bad option or configuration, 3 the registry refused (no such version, corrupt model,
 * nothing to roll back to...), 4 committed but not announced (Kafka failed).
 */
import { Command, InvalidArgumentError } from 'commander';
import { ModelRegistry, RegistryError, type ChangeOutcome, type ModelSummary } from '../../actors/model/registry.ts';
import { readForecasterSpec } from '../../actors/model/forecaster-spec.ts';
import { formatEvaluation, textTable } from '../../actors/training/metrics-text.ts';
import type { StoredMetrics } from '../../actors/training/train-job.ts';
import { sqlModelStore } from '../../actors/model/model-store.ts';
import type { SqlStore } from '../../connectors/postgres/sql-store.ts';
import { loadConfig } from '../../platform/config.ts';
import { fail, openPublisher, operatorName, parseCommodityId } from './train.ts';
import { openPlatformDatabase } from './database.ts';

function parseVersion(value: string): number {
  const n = Number(value.replace(/^v/i, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a model version such as 12 or v12');
  return n;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) throw new InvalidArgumentError('expected an integer >= 1');
  return n;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Runs `fn` with a registry (and a publisher when `announce`); registry refusals become exit status 3. */
async function withRegistry<T>(announce: boolean, fn: (registry: ModelRegistry, sql: SqlStore, announcing: boolean) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const sql = await openPlatformDatabase(config);
  let bus: Awaited<ReturnType<typeof openPublisher>>;
  try {
    bus = announce ? await openPublisher(config) : undefined;
  } catch (err) {
    await sql.close();
    throw fail(4, `carbon models: Kafka (KAFKA_BROKERS) failed before any change: ${(err as Error).message}`, err);
  }
  try {
    return await fn(new ModelRegistry(sqlModelStore(sql), bus?.publisher), sql, bus !== undefined);
  } catch (err) {
    if (err instanceof RegistryError) throw fail(err.code === 'ANNOUNCE_FAILED' ? 4 : 3, `carbon models: ${err.message}`, undefined);
    throw err;
  } finally {
    await bus?.producer.close();
    await sql.close();
  }
}

/** The walk-forward skill stored in a model's spec; '-' for models written by other code. */
function scoresOf(m: ModelSummary): { pinball: string; coverage: string; brier: string } {
  const spec = readForecasterSpec(m.params);
  const skill = typeof spec === 'string' ? undefined : spec.skill;
  if (skill === undefined) return { pinball: '-', coverage: '-', brier: '-' };
  return { pinball: skill.pinballRatio.toFixed(4), coverage: (skill.intervalCoverage * 100).toFixed(1), brier: skill.brier.toFixed(4) };
}

function printList(models: readonly ModelSummary[]): void {
  const rows = [['version', 'commodity', 'family', 'status', 'trained', 'h', 'rows', 'pinball/no_change', 'cover %', 'Brier', 'KiB']];
  for (const m of models) {
    const s = scoresOf(m);
    rows.push([`v${m.version}`, m.commodity, m.family, m.status, time(m.trainedAtMs), String(m.horizonTicks), m.trainRows.toLocaleString('en-US'), s.pinball, s.coverage, s.brier, (m.sizeBytes / 1024).toFixed(0)]);
  }
  for (const line of textTable(rows)) process.stdout.write(`${line}\n`);
  if (models.length === 0) process.stdout.write('(no models)\n');
  else process.stdout.write('pinball/no_change: walk-forward mean pinball loss over the no-change forecast\'s (below 1 is better); cover: the 80 % interval\'s coverage.\n');
}

function printChange(o: ChangeOutcome, announcing: boolean): void {
  const c = o.change;
  const verb = c.action === 'promote' ? 'promoted' : 'rolled back';
  process.stdout.write(
    `${c.commodity} (${c.horizonTicks} tick(s)): v${c.version} is in service (${verb}; was ${c.previousVersion === null ? 'none' : `v${c.previousVersion}`}) at ${time(c.changedAtMs)} UTC; ` +
      `${o.announced ? 'announced on model-updates' : announcing ? 'not announced' : 'not announced (KAFKA_BROKERS not set: workers load it when they next start)'}\n`,
  );
}

export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description('list, inspect, promote and roll back the models in the registry (DATABASE_URL)')
    .addHelpText('after', `
Statuses: candidate (saved, not decided), active (the champion in service, one per commodity and horizon),
shadow (a challenger: forecasts every live tick beside the champion, promoted automatically when it beats it),
retired (served or shadowed before), rejected (could not serve, or rolled back). Every promotion and rollback
writes an audit row and a service-history row, and is announced on model-updates when KAFKA_BROKERS is set.

Examples:
  carbon models list --commodity WTI
  carbon models show v12
  carbon models promote 12 --reason "validated by hand after the 2024 roll"
  carbon models rollback WTI --horizon 5 --reason "live coverage collapsed"`);

  models
    .command('list')
    .description('models, newest first, with their walk-forward scores')
    .option('--commodity <id>', 'only this commodity', parseCommodityId)
    .option('--limit <n>', 'at most this many', parseLimit, 50)
    .option('--json', 'JSON lines on stdout')
    .action(async (opts: { commodity?: string; limit: number; json?: boolean }) => {
      await withRegistry(false, async (registry) => {
        const list = await registry.list({ ...(opts.commodity === undefined ? {} : { commodity: opts.commodity }), limit: opts.limit });
        if (opts.json) for (const m of list) process.stdout.write(`${JSON.stringify(m)}\n`);
        else printList(list);
      });
    });

  models
    .command('show')
    .description('one model: parameters, every family\'s walk-forward scores, the champion decision, service history')
    .argument('<version>', 'model version, e.g. 12 or v12', parseVersion)
    .option('--json', 'the registry row (without the model bytes) as JSON')
    .action(async (version: number, opts: { json?: boolean }) => {
      await withRegistry(false, async (registry) => {
        const { blob: _blob, ...m } = await registry.show(version);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(m)}\n`);
          return;
        }
        const spec = readForecasterSpec(m.params);
        const metrics = m.metrics as Partial<StoredMetrics>;
        const lines = [
          `v${m.version}  ${m.commodity}  ${m.family}  ${m.status.toUpperCase()}  trained ${time(m.trainedAtMs)} UTC  ${m.format}, ${(m.sizeBytes / 1024).toFixed(0)} KiB`,
          `  training rows: ${m.trainRows.toLocaleString('en-US')} from ${day(m.trainFromMs)} to ${day(m.trainToMs)}, horizon ${m.horizonTicks} tick(s)`,
        ];
        if (typeof spec === 'string') lines.push(`  cannot serve: ${spec}`);
        else {
          lines.push(
            `  scale: ${(spec.scale.weight * 100).toFixed(0)} % EWMA variance, ${(100 - spec.scale.weight * 100).toFixed(0)} % long-run (volatility ${Math.sqrt(spec.scale.longRunVariance).toFixed(4)} per tick)` +
              `; residual quantiles from ${spec.residuals.rows} calibration rows; probability: Platt ${spec.probability.intercept.toFixed(3)} + ${spec.probability.slope.toFixed(3)} logit(raw)`,
          );
        }
        if (metrics.walkForward && metrics.champion && metrics.excludedRows) lines.push(formatEvaluation(metrics as StoredMetrics, m.horizonTicks));
        const served = (await registry.serviceHistory(m.commodity)).filter((s) => s.modelVersion === m.version);
        lines.push(served.length === 0 ? '  never in service' : '  in service:');
        for (const s of served) lines.push(`    ${time(s.fromMs)} .. ${s.toMs === null ? 'now' : time(s.toMs)}  (${s.reason})`);
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  models
    .command('promote')
    .description('put a version into service by hand (overrides the promotion rule; audited)')
    .argument('<version>', 'model version, e.g. 12 or v12', parseVersion)
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--by <name>', 'who, for the audit log (default: $USER)')
    .action(async (version: number, opts: { reason: string; by?: string }) => {
      await withRegistry(true, async (registry, _sql, announcing) => {
        printChange(await registry.promote(version, { actor: operatorName(opts.by), reason: opts.reason }), announcing);
      });
    });

  models
    .command('rollback')
    .description('put the version that served a horizon before back into service (the current one becomes rejected; audited)')
    .argument('<commodity>', 'commodity id, e.g. WTI', parseCommodityId)
    .option('--horizon <ticks>', 'the horizon whose champion to roll back', parseLimit, 1)
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--by <name>', 'who, for the audit log (default: $USER)')
    .action(async (commodity: string, opts: { horizon: number; reason: string; by?: string }) => {
      await withRegistry(true, async (registry, _sql, announcing) => {
        printChange(await registry.rollback(commodity, opts.horizon, { actor: operatorName(opts.by), reason: opts.reason }), announcing);
      });
    });
}
