/**
 * Gateway contracts on the real services, with gateways in the test process over one worker core: routing
 * (local, forwarded, degraded, exact again after a reassignment), every error code for its bad input, tenants,
 * audit rows, health and reflection, and live predictions on a stream.
 */
import test, { type ExecutionContext } from 'ava';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createRequire } from 'node:module';
import { connect as connectHttp2 } from 'node:http2';
import { dirname, join } from 'node:path';
import { partitionOf } from '../connectors/partitioner.ts';
import { ServingPath, type PredictResponse, type StreamPredictionsResponse } from '../proto/gen/carbon/v1/prediction_service.ts';
import { eventually } from './eventually.ts';
import { MODELLED, PARTITIONS, TOKENS, UNMODELLED, bearer, call, client, gatewayWorld, type GatewayWorld } from './gateway-harness.ts';

let world: GatewayWorld;
const teardowns: Array<() => unknown> = [];
// ava forbids t.teardown in hooks: the shared world's clean-up runs after the last test instead.
const hookContext = { teardown: (fn: () => unknown) => teardowns.push(fn), passed: true, log: () => undefined } as unknown as ExecutionContext;
const evens = [0, 2, 4];
const odds = [1, 3, 5];

test.after.always(async () => {
  const results = [];
  for (const fn of teardowns.reverse()) results.push(await Promise.allSettled([fn()]));
  const failed = results.flat().find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
});

test.before(async () => {
  world = await gatewayWorld(hookContext);
  for (const c of [...MODELLED, UNMODELLED]) await world.feed(c, 40);
});

function codeOf(r: { ok: boolean; err?: ServiceError }): status | 'OK' {
  return r.ok ? 'OK' : (r.err as ServiceError).code;
}

test.serial('every commodity is answered by either gateway with the owning actor\'s prediction: local on its owner, forwarded on the other', async (t) => {
  const a = await world.startGateway(evens);
  const b = await world.startGateway(odds);
  const ca = client(a.port);
  const cb = client(b.port);
  t.teardown(() => {
    ca.close();
    cb.close();
  });
  for (const commodity of MODELLED) {
    const p = partitionOf(commodity, PARTITIONS);
    const snapshot = await world.core.pipeline.snapshot(p, commodity, 1_000);
    t.truthy(snapshot?.predictions[0], `${commodity} has a prediction in its actor`);
    for (const [c, ownerIsThis] of [[ca, evens.includes(p)], [cb, odds.includes(p)]] as const) {
      const r = await call(c.predict.bind(c), { commodity, acceptStale: false }, bearer(TOKENS.all));
      if (!r.ok) return t.fail(`${commodity}: ${r.err.message}`);
      t.deepEqual(r.res.prediction, snapshot?.predictions[0], `${commodity}: the owner's prediction`);
      t.is(r.res.prediction?.family, 'forest');
      t.is(r.res.prediction?.quantileReturns.length, 7);
      t.is(r.res.meta?.path, ownerIsThis ? ServingPath.SERVING_PATH_LOCAL : ServingPath.SERVING_PATH_FORWARDED, commodity);
      t.false(r.res.meta?.degraded);
      t.is(r.res.meta?.partition, p);
      t.is(r.res.meta?.owner, ownerIsThis ? (c === ca ? a.workerId : b.workerId) : (c === ca ? b.workerId : a.workerId));
      const f = r.res.meta?.freshness;
      t.true(f !== undefined && f.predictionAgeMs !== undefined && f.modelAgeMs !== undefined && f.featuresAgeMs !== undefined && f.tickAgeMs > 0, 'every age is there');
    }
    const features = await call(cb.getFeatures.bind(cb), { commodity }, bearer(TOKENS.all));
    t.is(features.ok && features.res.features?.tickCount, 40, `${commodity}: features of its 40 ticks`);
  }
});

test.serial('client connections are pinged and asked to reconnect after their maximum age; calls go on across it', async (t) => {
  const g = await world.startGateway([], { CARBON_GRPC_KEEPALIVE: '100ms', CARBON_GRPC_MAX_CONNECTION_AGE: '400ms' });
  const raw = connectHttp2(`http://127.0.0.1:${g.port}`);
  const c = client(g.port);
  t.teardown(() => {
    raw.destroy();
    c.close();
  });
  const pinged = new Promise<void>((resolve) => raw.once('ping', () => resolve()));
  const toldToReconnect = new Promise<number>((resolve) => raw.once('goaway', (code: number) => resolve(code)));
  await pinged;
  t.is(await toldToReconnect, 0, 'GOAWAY with NO_ERROR');
  // The grpc-js client reconnects by itself each time its connection is aged out; no call fails for it.
  const failures: string[] = [];
  const until = Date.now() + 1_500;
  let calls = 0;
  while (Date.now() < until) {
    const r = await call(c.predict.bind(c), { commodity: 'WTI', acceptStale: true }, bearer(TOKENS.all));
    if (!r.ok) failures.push(`${status[r.err.code]} ${r.err.details}`);
    calls++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.deepEqual(failures, [], `${calls} calls across several connection ages`);
});

test.serial('each bad input gets its status with a message naming what to fix; the audit log records auth failures', async (t) => {
  const g = await world.startGateway([]);
  const c = client(g.port);
  t.teardown(() => c.close());
  const predict = c.predict.bind(c);
  const cases: Array<[string, Promise<{ ok: boolean; err?: ServiceError }>, status, RegExp]> = [
    ['bad id', call(predict, { commodity: 'wti!', acceptStale: false }, bearer(TOKENS.all)), status.INVALID_ARGUMENT, /^commodity: /],
    ['empty id', call(predict, { commodity: '', acceptStale: false }, bearer(TOKENS.all)), status.INVALID_ARGUMENT, /^commodity: required/],
    ['horizon out of range', call(predict, { commodity: 'WTI', horizonTicks: 0, acceptStale: false }, bearer(TOKENS.all)), status.INVALID_ARGUMENT, /^horizon_ticks: must be 1\.\.365/],
    ['horizon not served', call(predict, { commodity: 'WTI', horizonTicks: 7, acceptStale: false }, bearer(TOKENS.all)), status.INVALID_ARGUMENT, /^horizon_ticks: 7 is not a served horizon; the served ones are 1, 5, 20 ticks/],
    ['horizon of no model', call(predict, { commodity: 'WTI', horizonTicks: 5, acceptStale: false }, bearer(TOKENS.all)), status.UNAVAILABLE, /^no champion in service for WTI at 5 tick\(s\): no model of WTI was ever trained at 5 tick\(s\): carbon train --commodity WTI/],
    ['unknown commodity', call(predict, { commodity: 'UNOBTAINIUM', acceptStale: false }, bearer(TOKENS.all)), status.NOT_FOUND, /no tick of UNOBTAINIUM/],
    ['no model yet', call(predict, { commodity: UNMODELLED, acceptStale: false }, bearer(TOKENS.all)), status.UNAVAILABLE, /no champion in service for NICKEL at 1 tick\(s\): no model of NICKEL was ever trained/],
    ['no token', call(predict, { commodity: 'WTI', acceptStale: false }, new Metadata()), status.UNAUTHENTICATED, /no credentials/],
    ['unknown token', call(predict, { commodity: 'WTI', acceptStale: false }, bearer('not-a-token')), status.UNAUTHENTICATED, /unknown token/],
    ['other tenant\'s commodity', call(predict, { commodity: 'BRENT', acceptStale: false }, bearer(TOKENS.wti)), status.PERMISSION_DENIED, /tenant wti-only may not read BRENT/],
    ['oversized request', call(predict, { commodity: 'W'.repeat(20_000), acceptStale: false }, bearer(TOKENS.all)), status.RESOURCE_EXHAUSTED, /./],
  ];
  for (const [what, pending, code, message] of cases) {
    const r = await pending;
    t.is(codeOf(r), code, what);
    if (!r.ok) t.regex((r.err as ServiceError).details, message, what);
  }
  const allowed = await call(predict, { commodity: 'WTI', acceptStale: false }, bearer(TOKENS.wti));
  t.true(allowed.ok, 'tenant wti-only reads WTI');
  const first = await call(predict, { commodity: 'WTI', acceptStale: false }, bearer(TOKENS.slow));
  const second = await call(predict, { commodity: 'WTI', acceptStale: false }, bearer(TOKENS.slow));
  t.true(first.ok);
  t.is(codeOf(second), status.RESOURCE_EXHAUSTED, 'a second call within the second passes the tenant\'s 1 call/s');
  if (!second.ok) t.regex(second.err.details, /rate limit of tenant slow: 1 calls\/s \(burst 1\); retry in \d+ ms/);
  await eventually(async () => {
    const { rows } = await world.sql.query<{ action: string; actor: string; subject: string }>('SELECT action, actor, subject FROM audit_log');
    return rows.some((r) => r.action === 'auth.denied' && r.actor === 'wti-only' && r.subject === 'BRENT')
      && rows.filter((r) => r.action === 'auth.unauthenticated').length >= 2
      && rows.some((r) => r.action === 'gateway.started');
  }, { what: 'audit rows of the auth failures and of the gateway start', timeoutMs: 10_000, intervalMs: 50 });
  t.pass();
});

test.serial('a prediction older than the bound is UNAVAILABLE naming its age, unless the request accepts stale answers', async (t) => {
  const g = await world.startGateway([], { CARBON_MAX_STALENESS: '1ms' });
  const c = client(g.port);
  t.teardown(() => c.close());
  await new Promise((r) => setTimeout(r, 5));
  const refused = await call(c.predict.bind(c), { commodity: 'WTI', acceptStale: false }, bearer(TOKENS.all));
  t.is(codeOf(refused), status.UNAVAILABLE);
  if (!refused.ok) t.regex(refused.err.details, /the latest prediction of WTI is [\d.]+m?s old \(made at .*\), beyond the 1ms bound: set accept_stale/);
  const taken = await call(c.predict.bind(c), { commodity: 'WTI', acceptStale: true }, bearer(TOKENS.all));
  t.true(taken.ok && taken.res.meta?.stale === true, 'served, marked stale');
});

test.serial('health answers per service and reflection lists the services, with nothing but the server', async (t) => {
  const g = await world.startGateway([]);
  const health = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as GrpcObject;
  const Health = ((health.grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject;
  const hc = new (Health.Health as ServiceClientConstructor)(`127.0.0.1:${g.port}`, credentials.createInsecure()) as unknown as {
    Check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
    close(): void;
  };
  t.teardown(() => hc.close());
  const check = (service: string) => new Promise<{ status?: string; code?: number }>((resolve) => {
    hc.Check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res.status }));
  });
  t.deepEqual(await check(''), { status: 'SERVING' });
  t.deepEqual(await check('carbon.v1.PredictionService'), { status: 'SERVING' });
  t.deepEqual(await check('no.such.Service'), { code: status.NOT_FOUND });

  const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
  const refl = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as GrpcObject;
  const Reflection = (((refl.grpc as GrpcObject).reflection as GrpcObject).v1 as GrpcObject).ServerReflection as ServiceClientConstructor;
  const rc = new Reflection(`127.0.0.1:${g.port}`, credentials.createInsecure()) as unknown as { ServerReflectionInfo(): ClientDuplexStream<object, object>; close(): void };
  t.teardown(() => rc.close());
  const services = await new Promise<string[]>((resolve, reject) => {
    const stream = rc.ServerReflectionInfo();
    stream.on('data', (m: { list_services_response?: { service: { name: string }[] } }) => {
      resolve((m.list_services_response?.service ?? []).map((s) => s.name).sort());
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ list_services: '' });
  });
  t.deepEqual(services, ['carbon.v1.PredictionService', 'grpc.health.v1.Health']);

  g.drain();
  t.deepEqual(await check('carbon.v1.PredictionService'), { status: 'NOT_SERVING' }, 'a draining worker says so');
  const c = client(g.port);
  t.teardown(() => c.close());
  const r = await call(c.predict.bind(c), { commodity: 'WTI', acceptStale: false }, bearer(TOKENS.all));
  t.is(codeOf(r), status.UNAVAILABLE);
  if (!r.ok) t.regex(r.err.details, /draining/);
});

test.serial('StreamPredictions delivers the predictions of new ticks as they are processed', async (t) => {
  const g = await world.startGateway([]);
  const c = client(g.port);
  t.teardown(() => c.close());
  const received: StreamPredictionsResponse[] = [];
  const stream = c.streamPredictions({ commodities: ['WTI', 'BRENT'] }, bearer(TOKENS.all), { deadline: Date.now() + 60_000 });
  stream.on('data', (m: StreamPredictionsResponse) => received.push(m));
  stream.on('error', () => undefined);
  t.teardown(() => stream.cancel());
  await eventually(() => received.length >= 2, { what: 'the latest prediction of each followed commodity', timeoutMs: 10_000, intervalMs: 20 });
  const before = Math.max(...received.filter((m) => m.prediction?.commodity === 'WTI').map((m) => m.prediction?.tickTsMs ?? 0));
  await world.feed('WTI', 3);
  await eventually(() => received.filter((m) => m.prediction?.commodity === 'WTI' && (m.prediction.tickTsMs ?? 0) > before).length >= 1, { what: 'a prediction of a new WTI tick', timeoutMs: 10_000, intervalMs: 20 });
  const latest = await world.core.pipeline.snapshot(partitionOf('WTI', PARTITIONS), 'WTI', 1_000);
  await eventually(() => received.some((m) => m.prediction?.tickTsMs === latest?.predictions[0]?.tickTsMs), { what: 'the newest WTI prediction on the stream', timeoutMs: 10_000, intervalMs: 20 });
  t.true(received.every((m) => m.meta?.freshness !== undefined), 'with freshness');
  const denied = c.streamPredictions({ commodities: ['BRENT'] }, bearer(TOKENS.wti), { deadline: Date.now() + 5_000 });
  const code = await new Promise<number>((resolve) => denied.on('error', (e: ServiceError) => resolve(e.code)));
  t.is(code, status.PERMISSION_DENIED);
});

test.serial('ListCommodities and ListModels answer within the tenant\'s commodities', async (t) => {
  const g = await world.startGateway([]);
  const c = client(g.port);
  t.teardown(() => c.close());
  const all = await call(c.listCommodities.bind(c), {}, bearer(TOKENS.all));
  t.deepEqual(all.ok && all.res.commodities.map((x) => x.commodity), [...MODELLED, UNMODELLED].sort());
  const wti = await call(c.listCommodities.bind(c), {}, bearer(TOKENS.wti));
  t.deepEqual(wti.ok && wti.res.commodities.map((x) => [x.commodity, x.hasPrediction, x.partition]), [['WTI', true, partitionOf('WTI', PARTITIONS)]]);
  const models = await call(c.listModels.bind(c), { commodity: '', limit: 0 }, bearer(TOKENS.wti));
  t.deepEqual(models.ok && models.res.models.map((m) => [m.commodity, m.status]), [['WTI', 2]]);
  const bad = await call(c.listModels.bind(c), { commodity: '', limit: 5_000 }, bearer(TOKENS.all));
  t.is(codeOf(bad), status.INVALID_ARGUMENT);
});

test.serial('when an owner goes away its commodities are answered degraded from the online store, and exactly again once its partitions are reassigned', async (t) => {
  const a = await world.startGateway(evens);
  const b = await world.startGateway(odds);
  const cb = client(b.port);
  t.teardown(() => cb.close());
  const ofA = MODELLED.filter((c) => evens.includes(partitionOf(c, PARTITIONS)));
  t.true(ofA.length > 0, 'some commodity lives on an even partition');
  await a.stop();
  for (const commodity of ofA) {
    const r = await call(cb.predict.bind(cb), { commodity, acceptStale: false }, bearer(TOKENS.all));
    if (!r.ok) return t.fail(`${commodity}: ${r.err.message}`);
    const stored = await world.online.getLatest(commodity);
    t.is(r.res.meta?.path, ServingPath.SERVING_PATH_DEGRADED, commodity);
    t.true(r.res.meta?.degraded);
    t.deepEqual(r.res.prediction, stored.predictions[0], `${commodity}: the last durable prediction`);
  }
  await b.assignmentChanged([...evens, ...odds]);
  for (const commodity of MODELLED) {
    const r: { ok: true; res: PredictResponse } | { ok: false; err: ServiceError } = await call(cb.predict.bind(cb), { commodity, acceptStale: false }, bearer(TOKENS.all));
    const snapshot = await world.core.pipeline.snapshot(partitionOf(commodity, PARTITIONS), commodity, 1_000);
    t.true(r.ok && r.res.meta?.path === ServingPath.SERVING_PATH_LOCAL && !r.res.meta.degraded, commodity);
    t.deepEqual(r.ok && r.res.prediction, snapshot?.predictions[0]);
  }
});
