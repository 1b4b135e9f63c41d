/**
 * Transport security of the gateway with certificates made here by openssl (a throwaway CA, a server certificate
 * for the DNS name carbon-grpc only, client certificates from that CA and from another one): TLS from the files
 * named by CARBON_TLS_CERT/KEY, mutual TLS with CARBON_TLS_CA, plaintext refused once TLS is on, the internal
 * (forwarding) channel under the same certificates checked against CARBON_TLS_SERVER_NAME, and the plaintext
 * health-only port. The gateways run over one embedded worker core (PGlite, in-process bus, memory ownership).
 */
import test from 'ava';
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { producerTickPublisher } from '../connectors/producer-tick-publisher.ts';
import { loadGatewayConfig } from '../gateway/gateway-config.ts';
import { startGateway, type Gateway } from '../gateway/server.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { PredictionServiceClient, ServingPath, type GetFeaturesResponse } from '../proto/gen/carbon/v1/prediction_service.ts';
import { openEdges, type Edges } from '../supervisors/worker/edges.ts';
import { startWorkerCore, type WorkerCore } from '../supervisors/worker/worker-core.ts';
import { freePort } from './free-port.ts';
import { makePki, SERVER_NAME, type Pki } from './pki.ts';
import { eventually } from './eventually.ts';

const PARTITIONS = 4;
const quiet = createLogger({ test: 'gateway-tls' }, process.env.GATEWAY_TEST_LOGS ? undefined : () => undefined);

let pki: Pki;
let edges: Edges;
let core: WorkerCore;
let baseEnv: Record<string, string>;
const gateways: Gateway[] = [];

test.before(async () => {
  pki = makePki();
  const dataDir = join(pki.dir, 'data');
  baseEnv = { CARBON_DATA_DIR: dataDir, CARBON_TOPIC_PARTITIONS: String(PARTITIONS), CARBON_GRPC_PORT: '0', CARBON_GRPC_INTERNAL_PORT_BASE: '0' };
  const config = loadConfig(baseEnv);
  edges = await openEdges(config, quiet, 'embedded');
  core = await startWorkerCore(config, loadGatewayConfig(config, baseEnv), edges, undefined, quiet, (reason, err) => {
    quiet.error('worker_core_failed', { reason, err });
  });
  const feed = producerTickPublisher(edges.producer, edges.topics.prices, config.pipeline.maxMessageBytes);
  await feed.publish(Array.from({ length: 30 }, (_, i) => ({ commodity: 'WTI', tsMs: Date.UTC(2024, 0, 1 + i), price: 70 + Math.sin(i), unit: 'USD/barrel', source: 'test:tls' })));
  await eventually(async () => (await edges.online.getLatest('WTI')).features?.tickCount === 30, { what: '30 WTI ticks processed', timeoutMs: 60_000, intervalMs: 50 });
});

test.after.always(async () => {
  for (const g of gateways.splice(0)) await g.stop();
  await core?.stop();
  await edges?.close();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

/** A gateway over the shared core under `env`, holding `partitions`. */
async function gateway(env: Record<string, string>, partitions: readonly number[]): Promise<Gateway> {
  const gwEnv = { ...baseEnv, ...env };
  const g = await startGateway({
    config: loadGatewayConfig(loadConfig(gwEnv), gwEnv),
    partitionCount: PARTITIONS,
    pipeline: core.pipeline,
    online: edges.online,
    forecasters: core.models,
    horizons: [1, 5, 20],
    sql: edges.store,
    ownership: edges.ownership,
    log: quiet,
  });
  gateways.push(g);
  await g.assignmentChanged(partitions);
  return g;
}

const all = Array.from({ length: PARTITIONS }, (_, p) => p);
const tlsEnv = () => ({ CARBON_TLS_CERT: pki.serverCert, CARBON_TLS_KEY: pki.serverKey });
const mtlsEnv = () => ({ ...tlsEnv(), CARBON_TLS_CA: pki.caCert });

type Outcome = { ok: true; res: GetFeaturesResponse } | { ok: false; code: number; details: string };

/** GetFeatures of WTI over a fresh channel with `creds` (target name checked against the certificate's SAN). */
async function getFeatures(port: number, creds: ChannelCredentials): Promise<Outcome> {
  const c = new PredictionServiceClient(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': SERVER_NAME, 'grpc.use_local_subchannel_pool': 1 });
  try {
    return await steadyCall(c);
  } finally {
    c.close();
  }
}

const pem = (path: string) => readFileSync(path);
const trusting = () => credentials.createSsl(pem(pki.caCert));
const withClientCert = () => credentials.createSsl(pem(pki.caCert), pem(pki.clientKey), pem(pki.clientCert));
const asStranger = () => credentials.createSsl(pem(pki.caCert), pem(pki.strangerKey), pem(pki.strangerCert));

test.serial('TLS from the certificate files: a client trusting the CA is served, plaintext and clients trusting another CA are refused', async (t) => {
  const g = await gateway(tlsEnv(), all);
  const ok = await getFeatures(g.port, trusting());
  t.true(ok.ok && ok.res.features?.tickCount === 30, JSON.stringify(ok));
  const plaintext = await getFeatures(g.port, credentials.createInsecure());
  t.false(plaintext.ok, 'a plaintext client gets no answer from a TLS port');
  if (!plaintext.ok) t.is(plaintext.code, status.UNAVAILABLE);
  const wrongCa = await getFeatures(g.port, credentials.createSsl(pem(join(pki.dir, 'other-ca.crt'))));
  t.false(wrongCa.ok, 'a server certificate from an untrusted CA is refused by the client');
  await g.stop();
});

test.serial('mutual TLS: a client certificate from the CA is served; none, or one from another CA, is refused', async (t) => {
  const g = await gateway(mtlsEnv(), all);
  const ok = await getFeatures(g.port, withClientCert());
  t.true(ok.ok && ok.res.features?.tickCount === 30, JSON.stringify(ok));
  const anonymous = await getFeatures(g.port, trusting());
  t.false(anonymous.ok, 'no client certificate');
  if (!anonymous.ok) t.is(anonymous.code, status.UNAVAILABLE);
  const stranger = await getFeatures(g.port, asStranger());
  t.false(stranger.ok, 'a client certificate of another CA');
  t.false((await getFeatures(g.port, credentials.createInsecure())).ok, 'plaintext');
  await g.stop();
});

test.serial('forwarding between workers runs over mutual TLS with the same certificates, checked against CARBON_TLS_SERVER_NAME', async (t) => {
  const owner = await gateway(mtlsEnv(), all);
  // The peers dial 127.0.0.1, which the certificate does not name: without the server name every forward fails.
  // A generous owner budget: on a busy machine the first handshake may take longer than the default 250 ms, and
  // only the certificate check may decide between forwarded and degraded here.
  const patient = { CARBON_GRPC_OWNER_TIMEOUT: '3s' };
  const unnamed = await gateway({ ...mtlsEnv(), ...patient }, []);
  const named = await gateway({ ...mtlsEnv(), ...patient, CARBON_TLS_SERVER_NAME: SERVER_NAME }, []);
  const viaNamed = await getFeatures(named.port, withClientCert());
  t.true(viaNamed.ok, JSON.stringify(viaNamed));
  if (viaNamed.ok) {
    t.is(viaNamed.res.meta?.path, ServingPath.SERVING_PATH_FORWARDED);
    t.is(viaNamed.res.meta?.owner, owner.workerId);
  }
  const viaUnnamed = await getFeatures(unnamed.port, withClientCert());
  t.true(viaUnnamed.ok && viaUnnamed.res.meta?.path === ServingPath.SERVING_PATH_DEGRADED, 'the owner\'s certificate does not match 127.0.0.1: degraded');
  for (const g of [unnamed, named, owner]) await g.stop();
});

test.serial('the health-only port speaks plaintext grpc.health.v1 while the public port needs TLS, and serves nothing else', async (t) => {
  const g = await gateway({ ...mtlsEnv(), CARBON_GRPC_HEALTH_PORT: '0' }, all);
  t.is(g.healthPort, undefined, '0: no health-only listener');
  await g.stop();
  const probePort = await freePort();
  const h = await gateway({ ...mtlsEnv(), CARBON_GRPC_HEALTH_PORT: String(probePort) }, all);
  t.is(h.healthPort, probePort);
  const health = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as GrpcObject;
  const Health = ((health.grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject;
  const hc = new (Health.Health as ServiceClientConstructor)(`127.0.0.1:${probePort}`, credentials.createInsecure()) as unknown as {
    Check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
    close(): void;
  };
  t.teardown(() => hc.close());
  const check = (service: string) => new Promise<{ status?: string; code?: number }>((resolve) => {
    hc.Check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res.status }));
  });
  t.deepEqual(await check(''), { status: 'SERVING' });
  t.deepEqual(await check('carbon.v1.PredictionService'), { status: 'SERVING' });
  const predictOnHealthPort = await getFeatures(probePort, credentials.createInsecure());
  t.true(!predictOnHealthPort.ok && predictOnHealthPort.code === status.UNIMPLEMENTED, 'no API on the health port');
  h.drain();
  t.deepEqual(await check('carbon.v1.PredictionService'), { status: 'NOT_SERVING' }, 'draining shows on the probe port');
  await h.stop();
});

test('a configuration of half a key pair, or of a CA without server TLS, is refused at start naming the variable', (t) => {
  const config = loadConfig(baseEnv);
  t.throws(() => loadGatewayConfig(config, { ...baseEnv, CARBON_TLS_CERT: pki.serverCert }), { message: /^CARBON_TLS_KEY: .*CARBON_TLS_CERT is set/ });
  t.throws(() => loadGatewayConfig(config, { ...baseEnv, CARBON_TLS_KEY: pki.serverKey }), { message: /^CARBON_TLS_CERT: .*CARBON_TLS_KEY is set/ }, 'the variable set is named too');
  t.throws(() => loadGatewayConfig(config, { ...baseEnv, CARBON_TLS_CA: pki.caCert }), { message: /^CARBON_TLS_CA: / });
  t.throws(() => loadGatewayConfig(config, { ...baseEnv, CARBON_TLS_CERT: join(pki.dir, 'missing.crt'), CARBON_TLS_KEY: pki.serverKey }), { message: /^CARBON_TLS_CERT: expected a readable PEM file/ });
  t.throws(() => loadGatewayConfig(config, { ...baseEnv, CARBON_GRPC_HEALTH_PORT: '70000' }), { message: /^CARBON_GRPC_HEALTH_PORT: / });
  const tls = loadGatewayConfig(config, { ...baseEnv, ...mtlsEnv() }).security;
  t.true(tls.kind === 'tls' && tls.mutual);
});

/** The live TLS files of a gateway, in a folder of their own, replaced the way a mounted Secret is (rename over). */
function liveTlsFiles(): { env: Record<string, string>; replace(name: 'tls.crt' | 'tls.key' | 'ca.crt', text: Buffer): void } {
  const dir = mkdtempSync(join(pki.dir, 'live-'));
  const put = (name: string, text: Buffer) => {
    writeFileSync(join(dir, `.${name}.new`), text);
    renameSync(join(dir, `.${name}.new`), join(dir, name));
  };
  put('tls.crt', pem(pki.serverCert));
  put('tls.key', pem(pki.serverKey));
  put('ca.crt', pem(pki.caCert));
  return {
    env: { CARBON_TLS_CERT: join(dir, 'tls.crt'), CARBON_TLS_KEY: join(dir, 'tls.key'), CARBON_TLS_CA: join(dir, 'ca.crt'), CARBON_TLS_RELOAD_INTERVAL: '100ms' },
    replace: put,
  };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is shown. */
function presentedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: SERVER_NAME, ca: pem(pki.caCert), cert: pem(pki.clientCert), key: pem(pki.clientKey), ALPNProtocols: ['h2'] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}
const fingerprintOf = (path: string) => new X509Certificate(pem(path)).fingerprint256;

test.serial('a certificate renewed in place: new connections get it, a steady load sees no failed call, an open stream is not cut', async (t) => {
  const live = liveTlsFiles();
  const g = await gateway(live.env, all);
  t.is(await presentedFingerprint(g.port), fingerprintOf(pki.serverCert));
  // One long-lived connection with a stream open across the rotation, beside calls on fresh connections.
  const steady = new PredictionServiceClient(`127.0.0.1:${g.port}`, withClientCert(), { 'grpc.ssl_target_name_override': SERVER_NAME, 'grpc.use_local_subchannel_pool': 1 });
  t.teardown(() => steady.close());
  const stream = steady.streamPredictions({ commodities: ['WTI'] }, new Metadata(), { deadline: Date.now() + 120_000 });
  let streamEnded: string | undefined;
  stream.on('error', (err: ServiceError) => {
    if (err.code !== status.CANCELLED) streamEnded = `${err.code} ${err.details}`;
  });
  stream.on('end', () => {
    streamEnded ??= 'ended';
  });
  const failures: string[] = [];
  let calls = 0;
  const call = async () => {
    for (const outcome of [await steadyCall(steady), await getFeatures(g.port, withClientCert())]) {
      calls += 1;
      if (!outcome.ok) failures.push(`${outcome.code} ${outcome.details}`);
    }
  };
  for (let i = 0; i < 10; i++) await call();
  // Certificate first, key second: for a moment the pair does not match, and the reloader must keep the old one.
  live.replace('tls.crt', pem(pki.renewedServerCert));
  for (let i = 0; i < 5; i++) await call();
  live.replace('tls.key', pem(pki.renewedServerKey));
  await eventually(async () => {
    await call();
    return (await presentedFingerprint(g.port)) === fingerprintOf(pki.renewedServerCert);
  }, { what: 'new connections shown the renewed certificate', timeoutMs: 20_000, intervalMs: 20 });
  for (let i = 0; i < 10; i++) await call();
  t.deepEqual(failures, [], `${failures.length} of ${calls} calls failed`);
  t.true(calls >= 50, `${calls} calls`);
  t.is(streamEnded, undefined, 'the stream opened before the rotation is still open');
  stream.cancel();
  await g.stop();
});

test.serial('a client CA rotated in place: certificates of the CA added are served from then on, those of the old one still are', async (t) => {
  const live = liveTlsFiles();
  const g = await gateway(live.env, all);
  t.false((await getFeatures(g.port, asStranger())).ok, 'another CA\'s client before the rotation');
  live.replace('ca.crt', Buffer.concat([pem(pki.caCert), pem(pki.otherCaCert)]));
  await eventually(async () => (await getFeatures(g.port, asStranger())).ok, { what: 'the new CA\'s client served', timeoutMs: 20_000, intervalMs: 50 });
  t.true((await getFeatures(g.port, withClientCert())).ok);
  await g.stop();
});

/** GetFeatures of WTI on `client`'s channel. */
async function steadyCall(client: PredictionServiceClient): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    client.getFeatures({ commodity: 'WTI' }, new Metadata(), { deadline: Date.now() + 5_000 }, (err: ServiceError | null, res) => {
      resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, res });
    });
  });
}
