/**
 * `carbon models list|show|promote|rollback`: the model registry for operators. Promotions and rollbacks made
 * here are audited under the operator's name and announced on model-updates when KAFKA_BROKERS is set.
 * Exit status: 0 done, 2 bad option or configuration, 3 the registry refused (no such version, corrupt model,
 * nothing to roll back to...), 4 committed but not announced (Kafka failed).
 */
import { Command, InvalidArgumentError } from 'commander';
import { ModelRegistry, RegistryError, type ChangeOutcome, type ModelSummary } from '../../actors/model/registry.ts';
import { formatWalkForward } from '../../actors/training/metrics-text.ts';
import type { StoredModelMetrics, StoredModelParams } from '../../actors/training/model-metrics.ts';
import { sqlModelStore } from '../../connectors/postgres/model-store.ts';
import type { SqlStore } from '../../connectors/postgres/sql-store.ts';
import { loadConfig } from '../../platform/config.ts';
import { fail, openDatabase, openPublisher, operatorName, parseCommodityId } from './train.ts';

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
  const sql = await openDatabase(config);
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

function scoresOf(m: ModelSummary): { acc: string; mase: string; coverage: string } {
  const wf = (m.metrics as Partial<StoredModelMetrics> | null)?.walkForward;
  if (!wf) return { acc: '-', mase: '-', coverage: '-' };
  const p = wf.pooled;
  const acc = `${(p.model.directionalAccuracy * 100).toFixed(1)}/${(p.majority.directionalAccuracy * 100).toFixed(1)}`;
  return { acc, mase: p.model.mase === null ? 'n/a' : p.model.mase.toFixed(3), coverage: `${(p.model.intervalCoverage * 100).toFixed(1)}` };
}

function printList(models: readonly ModelSummary[]): void {
  const rows = [['version', 'commodity', 'status', 'trained', 'h', 'rows', 'acc/majority %', 'MASE', 'cover %', 'KiB']];
  for (const m of models) {
    const s = scoresOf(m);
    rows.push([`v${m.version}`, m.commodity, m.status, time(m.trainedAtMs), String(m.horizonTicks), m.trainRows.toLocaleString('en-US'), s.acc, s.mase, s.coverage, (m.sizeBytes / 1024).toFixed(0)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}\n`);
  if (models.length === 0) process.stdout.write('(no models)\n');
  else process.stdout.write('acc/majority: directional accuracy of the model / of the majority baseline; MASE < 1 beats no-change.\n');
}

function printChange(o: ChangeOutcome, announcing: boolean): void {
  const c = o.change;
  const verb = c.action === 'promote' ? 'promoted' : 'rolled back';
  process.stdout.write(
    `${c.commodity}: v${c.version} is in service (${verb}; was ${c.previousVersion === null ? 'none' : `v${c.previousVersion}`}) at ${time(c.changedAtMs)} UTC; ` +
      `${o.announced ? 'announced on model-updates' : announcing ? 'not announced' : 'not announced (KAFKA_BROKERS not set: workers load it when they next start)'}\n`,
  );
}

export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description('list, inspect, promote and roll back the models in the registry (DATABASE_URL)')
    .addHelpText('after', `
Statuses: candidate (saved, not decided), active (in service, one per commodity), retired (served before),
rejected (failed the promotion rule, or rolled back). Every promotion and rollback writes an audit row and a
service-history row, and is announced on model-updates when KAFKA_BROKERS is set.

Examples:
  carbon models list --commodity WTI
  carbon models show v12
  carbon models promote 12 --reason "validated by hand after the 2024 roll"
  carbon models rollback WTI --reason "live hit rate collapsed"`);

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
    .description('one model: parameters, walk-forward scores beside the baselines, promotion decision, service history')
    .argument('<version>', 'model version, e.g. 12 or v12', parseVersion)
    .option('--json', 'the registry row (without the model bytes) as JSON')
    .action(async (version: number, opts: { json?: boolean }) => {
      await withRegistry(false, async (registry) => {
        const { blob: _blob, ...m } = await registry.show(version);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(m)}\n`);
          return;
        }
        const params = m.params as Partial<StoredModelParams>;
        const metrics = m.metrics as Partial<StoredModelMetrics>;
        const lines = [
          `v${m.version}  ${m.commodity}  ${m.status.toUpperCase()}  trained ${time(m.trainedAtMs)} UTC  ${m.format}, ${(m.sizeBytes / 1024).toFixed(0)} KiB`,
          `  training rows: ${m.trainRows.toLocaleString('en-US')} from ${day(m.trainFromMs)} to ${day(m.trainToMs)}, horizon ${m.horizonTicks} tick(s)`,
        ];
        if (params.forest) {
          const f = params.forest;
          lines.push(`  forest: ${f.trees} trees, depth ${f.maxDepth}, max features ${f.maxFeatures}, min leaf ${f.minSamplesLeaf}, seed ${f.seed}`);
        }
        if (params.interval) {
          const i = params.interval;
          lines.push(`  interval: ${Math.round(i.level * 100)} % = prediction +-${i.halfWidth.toFixed(4)} (conformal, ${i.calibrationRows} calibration rows)`);
        }
        if (metrics.walkForward) lines.push(formatWalkForward(metrics.walkForward, metrics.excludedRows));
        if (metrics.decision) {
          lines.push(`  promotion rule${metrics.comparedWithVersion ? ` (against v${metrics.comparedWithVersion})` : ''}: ${metrics.decision.promote ? 'passed' : 'failed'}`);
          for (const c of metrics.decision.checks) lines.push(`    ${c.passed ? 'pass' : 'FAIL'}  ${c.detail}`);
        }
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
    .description('put the version that served before back into service (the current one becomes rejected; audited)')
    .argument('<commodity>', 'commodity id, e.g. WTI', parseCommodityId)
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--by <name>', 'who, for the audit log (default: $USER)')
    .action(async (commodity: string, opts: { reason: string; by?: string }) => {
      await withRegistry(true, async (registry, _sql, announcing) => {
        printChange(await registry.rollback(commodity, { actor: operatorName(opts.by), reason: opts.reason }), announcing);
      });
    });
}
