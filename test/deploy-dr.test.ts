/**
 * The disaster-recovery drill of docs/operations/disaster-recovery.md, against the real Postgres server: back up the
 * feature store and the model registry with pg_dump, restore them with pg_restore, and compare every table.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../deploy/tools/manifests.ts';
import { PG_ADMIN_URL } from './services.ts';

test('backup and restore of the feature store and the model registry give identical tables', (t) => {
  const drill = spawnSync('bash', [join(repoRoot, 'deploy', 'tools', 'dr-drill.sh'), PG_ADMIN_URL], { encoding: 'utf8' });
  if (drill.error) throw drill.error;
  t.is(drill.status, 0, drill.stderr);
  const result = JSON.parse(drill.stdout.trim().split('\n').at(-1) ?? '{}') as { rows: Record<string, number>; differences: number };
  t.is(result.differences, 0);
  t.deepEqual(result.rows, {
    schema_migrations: result.rows.schema_migrations,
    ticks: 6000,
    features: 6000,
    predictions: 6000,
    models: 12,
    model_service: 12,
    audit_log: 12,
  });
  t.true((result.rows.schema_migrations ?? 0) >= 1);
  t.log(drill.stdout.trim());
});
