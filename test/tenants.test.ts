/**
 * Tenants as data on the real Postgres: `carbon tenants` as an operator runs it (a token printed once, only its
 * hash stored, every change audited with who and why), and a gateway that applies each change while it runs,
 * announced by NOTIFY from the CLI's own process: a rotated token keeps working for its overlap with no call
 * refused, a revoked tenant is refused, a new quota and new entitlements hold from the next call.
 */
import test from 'ava';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { credentials } from '@grpc/grpc-js';
import { migrate } from '../connectors/postgres/migrate.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { producerTickPublisher } from '../connectors/producer-tick-publisher.ts';
import { loadGatewayConfig } from '../gateway/gateway-config.ts';
import { sha256Hex } from '../gateway/tenants.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { PredictionServiceClient } from '../proto/gen/carbon/v1/prediction_service.ts';
import { openEdges } from '../supervisors/worker/edges.ts';
import { startWorkerCore } from '../supervisors/worker/worker-core.ts';
import { runCarbon } from './carbon-cli.ts';
import { eventually } from './eventually.ts';
import { freshDatabase } from './services.ts';

const quiet = createLogger({ test: 'tenants' }, process.env.TENANTS_TEST_LOGS ? undefined : () => undefined);

/** `carbon` as the operator alice. */
const carbon = (args: readonly string[], env: Record<string, string>) => runCarbon(args, { USER: 'alice', ...env });

type Outcome = { ok: true } | { ok: false; code: number; details: string };

function features(client: PredictionServiceClient, token: string, commodity = 'WTI'): Promise<Outcome> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client.getFeatures({ commodity }, md, { deadline: Date.now() + 5_000 }, (err: ServiceError | null) => resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true }));
  });
}

test('carbon tenants: a token printed once and stored hashed, each change audited, applied live by a running gateway', async (t) => {
  const databaseUrl = await freshDatabase(t);
  const sql = postgresStore(databaseUrl, 2);
  t.teardown(() => sql.close());
  await migrate(sql);
  const env = { DATABASE_URL: databaseUrl };

  // A worker core on this database (in-process bus, memory online store), its gateway following the tenants.
  const coreEnv = { DATABASE_URL: databaseUrl, CARBON_TOPIC_PARTITIONS: '2', CARBON_GRPC_PORT: '0', CARBON_GRPC_INTERNAL_PORT_BASE: '0' };
  const config = loadConfig(coreEnv);
  const edges = await openEdges(config, quiet, 'embedded');
  t.teardown(() => edges.close());
  const core = await startWorkerCore(config, loadGatewayConfig(config, coreEnv), edges, undefined, quiet, (reason, err) => quiet.error('core_failed', { reason, err }));
  t.teardown(() => core.stop());
  await producerTickPublisher(edges.producer, edges.topics.prices, config.pipeline.maxMessageBytes).publish(
    Array.from({ length: 25 }, (_, i) => ({ commodity: i % 2 === 0 ? 'WTI' : 'BRENT', tsMs: Date.UTC(2024, 0, 1 + i), price: 70 + i, unit: 'USD', source: 'test:tenants' })),
  );
  await eventually(async () => (await edges.online.getLatest('BRENT')).features !== undefined, { what: 'ticks processed', timeoutMs: 60_000 });
  const client = new PredictionServiceClient(`127.0.0.1:${core.gateway.port}`, credentials.createInsecure());
  t.teardown(() => client.close());

  // Before any tenant: local and anonymous (loopback only).
  const added = await carbon(['tenants', 'add', 'acme', '--commodities', 'WTI', '--rate', '1000', '--reason', 'contract 114'], env);
  t.is(added.code, 0, added.stderr);
  const token = added.stdout.trim();
  t.regex(token, /^carbon_[\w-]{43}$/);
  t.regex(added.stderr, /shown once/);
  const stored = await sql.query<{ token_sha256: string }>('SELECT token_sha256 FROM tenant_tokens');
  t.deepEqual(stored.rows.map((r) => r.token_sha256), [sha256Hex(token)], 'only the hash is stored');
  t.false(JSON.stringify((await sql.query('SELECT * FROM tenants, tenant_tokens, audit_log')).rows).includes(token), 'the token is nowhere in the tables');

  await eventually(async () => (await features(client, token)).ok, { what: 'the new tenant served', timeoutMs: 10_000, intervalMs: 20 });
  const denied = await features(client, token, 'BRENT');
  t.true(!denied.ok && denied.code === 7, 'PERMISSION_DENIED outside its entitlements');

  // Rotation: the old token keeps working through the overlap while calls go on; the new one works at once.
  let refused = 0;
  let calls = 0;
  let rotating = true;
  const load = (async () => {
    while (rotating) {
      calls += 1;
      if (!(await features(client, token)).ok) refused += 1;
    }
  })();
  const rotated = await carbon(['tenants', 'rotate-token', 'acme', '--overlap', '10m', '--reason', 'yearly rotation', '--by', 'bob'], env);
  t.is(rotated.code, 0, rotated.stderr);
  const newToken = rotated.stdout.trim();
  await eventually(async () => (await features(client, newToken)).ok, { what: 'the new token served', timeoutMs: 10_000, intervalMs: 20 });
  for (let i = 0; i < 50; i++) {
    calls += 1;
    if (!(await features(client, token)).ok) refused += 1;
  }
  rotating = false;
  await load;
  t.is(refused, 0, `${refused} of ${calls} calls with the old token refused inside the overlap`);
  t.true(calls > 50);

  // A rotation with no overlap: the previous tokens are refused once the change is applied.
  const abrupt = await carbon(['tenants', 'rotate-token', 'acme', '--overlap', '0', '--reason', 'leaked'], env);
  t.is(abrupt.code, 0, abrupt.stderr);
  const third = abrupt.stdout.trim();
  await eventually(async () => !(await features(client, newToken)).ok && !(await features(client, token)).ok, { what: 'rotated tokens refused', timeoutMs: 10_000, intervalMs: 20 });
  t.true((await features(client, third)).ok);

  // Entitlements and quota, changed live.
  t.is((await carbon(['tenants', 'set-quota', 'acme', '--commodities', 'WTI,BRENT', '--rate', '0.01', '--burst', '1', '--reason', 'downgrade'], env)).code, 0);
  await eventually(async () => (await features(client, third, 'BRENT')).ok, { what: 'BRENT allowed', timeoutMs: 10_000, intervalMs: 50 });
  const limited = await features(client, third);
  t.true(!limited.ok && limited.code === 8 && /0.01 calls\/s \(burst 1\)/.test(limited.details), JSON.stringify(limited));

  // Revoked: every token refused.
  t.is((await carbon(['tenants', 'revoke', 'acme', '--reason', 'contract ended'], env)).code, 0);
  await eventually(async () => {
    const r = await features(client, third);
    return !r.ok && r.code === 16;
  }, { what: 'revoked tenant refused', timeoutMs: 10_000, intervalMs: 50 });

  const shown = await carbon(['tenants', 'show', 'acme'], env);
  t.regex(shown.stdout, /^acme {2}REVOKED at /);
  t.regex(shown.stdout, /no valid token/);
  const listed = await carbon(['tenants', 'list', '--json'], env);
  t.like(JSON.parse(listed.stdout.trim()), { name: 'acme', ratePerSecond: 0.01, burst: 1, commodities: ['WTI', 'BRENT'] });

  const { rows } = await sql.query<{ actor: string; action: string; subject: string; details: { reason: string } }>(
    "SELECT actor, action, subject, details FROM audit_log WHERE action LIKE 'tenant.%' ORDER BY id",
  );
  t.deepEqual(rows.map((r) => [r.actor, r.action, r.subject, r.details.reason]), [
    ['alice', 'tenant.add', 'acme', 'contract 114'],
    ['bob', 'tenant.rotate_token', 'acme', 'yearly rotation'],
    ['alice', 'tenant.rotate_token', 'acme', 'leaked'],
    ['alice', 'tenant.set_quota', 'acme', 'downgrade'],
    ['alice', 'tenant.revoke', 'acme', 'contract ended'],
  ]);

  const again = await carbon(['tenants', 'add', 'acme', '--commodities', '*', '--rate', '5', '--reason', 'x'], env);
  t.is(again.code, 3);
  t.regex(again.stderr, /tenant acme exists/);
  const missing = await carbon(['tenants', 'revoke', 'nobody', '--reason', 'x'], env);
  t.is(missing.code, 3);
  t.regex(missing.stderr, /no tenant nobody/);
});
