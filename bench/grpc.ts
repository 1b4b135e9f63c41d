/**
 * `npm run bench -- grpc [options]` (`--help` lists them with their defaults):
 * Predict on a real `carbon start` cluster (2 workers, Kafka, Postgres, Redis) whose commodities have ticks and a
 * trained model in service, against two bare echo servers in the same layout (a node:cluster primary with 2
 * workers sharing the port) that answer every Predict with a fixed real PredictResponse (same message sizes):
 * - `echo`: grpc-js with the generated service definition, the baseline the gateway is built on;
 * - `http2`: node:http2 alone writing the same bytes with gRPC framing, no grpc-js: the floor of any gRPC server
 *   on Node's HTTP/2 on this machine, which tells a gateway's latency from the runtime's.
 * All three are measured the same way by the same load generator (a process of its own, plain HTTP/2 with gRPC
 * framing, see `connect`):
 * - open loop: `rate` calls/s on a fixed schedule for `seconds`, latency of each call from its send: p50, p99;
 * - closed loop: `inflight` calls always outstanding for `closed-seconds`: calls/s, and the CPU time the server's
 *   workers spent per call (the same comparison, robust to what else the machine is doing).
 * Each loop runs in `rounds` alternating rounds (gateway, unmetered, echo, http2, gateway, ...) so that all
 * servers see the same load of a shared machine; a server's rounds are pooled. `unmetered` is the same platform
 * with the metering of calls switched off (SIGUSR2 to its workers before its rounds, and again before the
 * gateway's): `metering_overhead` is its closed-loop throughput over the gateway's, on the same workers, partitions
 * and connections.
 * Calls go round-robin over `channels` HTTP/2 connections (node:cluster hands each to one worker, so they spread
 * over both workers) and round-robin over the commodities, so the gateway answers both locally and forwarded.
 * With CARBON_BENCH_GRPC_ECHO_PORT set, this module is an echo server instead, with CARBON_BENCH_GRPC_LOAD the load
 * generator (the bench spawns them so).
 */
import cluster from 'node:cluster';
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { connect as http2Connect, createServer as createHttp2Server, type ClientHttp2Session } from 'node:http2';
import { Server, ServerCredentials, status, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ModelRegistry } from '../actors/model/registry.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../actors/training/model-update-publisher.ts';
import { ar1PriceSeries } from '../actors/training/synthetic-series.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { trainCommodities } from '../actors/training/train-job.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { kafkaProducer } from '../connectors/kafka/kafka-producer.ts';
import { connectKafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { createLogger } from '../platform/logger.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { grpcFrame } from '../gateway/grpc-wire.ts';
import { unaryCall } from './_grpc-unary-call.ts';
import { PredictionServiceService, PredictRequest, PredictResponse, ServingPath } from '../proto/gen/carbon/v1/prediction_service.ts';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';
import { freePort } from '../test/free-port.ts';
import { BROKERS, benchEnvironment, childPids, cpuSeconds, percentile, progress, startBenchCluster } from './_cluster.ts';

const COMMODITIES = ['WTI', 'BRENT', 'HENRY_HUB', 'GOLD', 'COPPER', 'SILVER'];
const TRAIN_TICKS = 400;
const SERVE_TICKS = 30;
const ECHO_PORT_VARIABLE = 'CARBON_BENCH_GRPC_ECHO_PORT';
const ECHO_RESPONSE_VARIABLE = 'CARBON_BENCH_GRPC_ECHO_RESPONSE';
const ECHO_KIND_VARIABLE = 'CARBON_BENCH_GRPC_ECHO_KIND';
const ECHO_WORKERS = 2;

// ---------------------------------------------------------------------------------------------------------------
// The echo servers (each a child process: node:cluster primary + workers).

/**
 * The servers of a run: the platform (metering usage, as it runs), the same platform with metering switched off,
 * and the two echo servers it is compared with.
 */
const SERVERS = ['gateway', 'unmetered', 'echo', 'http2'] as const;
type ServerName = (typeof SERVERS)[number];
type EchoKind = Exclude<ServerName, 'gateway' | 'unmetered'>;
const isPlatform = (name: ServerName) => name === 'gateway' || name === 'unmetered';

async function runEchoServer(port: number, responseBase64: string, kind: EchoKind): Promise<void> {
  if (cluster.isPrimary) {
    let listening = 0;
    cluster.on('listening', () => {
      if (++listening === ECHO_WORKERS) process.stdout.write('ready\n');
    });
    for (let i = 0; i < ECHO_WORKERS; i++) cluster.fork();
    process.on('SIGTERM', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
      process.exit(0);
    });
    return;
  }
  if (kind === 'http2') return runHttp2Echo(port, Buffer.from(responseBase64, 'base64'));
  const response = PredictResponse.decode(Buffer.from(responseBase64, 'base64'));
  const unimplemented = (_call: unknown, callback: (err: Partial<ServiceError>) => void) => callback({ code: status.UNIMPLEMENTED, details: 'echo server' });
  const server = new Server();
  const handlers: UntypedServiceImplementation = {
    predict: (_call: unknown, callback: (err: null, res: PredictResponse) => void) => callback(null, response),
    getFeatures: unimplemented,
    listCommodities: unimplemented,
    listModels: unimplemented,
    streamPredictions: (call: { emit(event: 'error', err: Partial<ServiceError>): void }) => call.emit('error', { code: status.UNIMPLEMENTED, details: 'echo server' }),
  };
  server.addService(PredictionServiceService, handlers);
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  process.on('SIGTERM', () => server.forceShutdown());
}

/** Every call, whatever its path, answered with `response` framed as gRPC: no decoding, no service table. */
async function runHttp2Echo(port: number, response: Buffer): Promise<void> {
  const body = grpcFrame(response);
  const server = createHttp2Server();
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.on('SIGTERM', () => server.close());
}

async function startEchoServer(response: PredictResponse, kind: EchoKind): Promise<{ address: string; pids: number[]; stop(): Promise<void> }> {
  const port = await freePort();
  // CARBON_WORKER_NODE_ARGS (e.g. --cpu-prof) applies to the echo workers as to the platform's, for comparison.
  const nodeArgs = (process.env.CARBON_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', new URL(import.meta.url).pathname], {
    env: { ...process.env, [ECHO_PORT_VARIABLE]: String(port), [ECHO_RESPONSE_VARIABLE]: Buffer.from(PredictResponse.encode(response).finish()).toString('base64'), [ECHO_KIND_VARIABLE]: kind },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} echo server exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    address: `127.0.0.1:${port}`,
    pids: childPids(child.pid as number),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The load: the same client code for every server.

/**
 * The load generator's client: plain node:http2 sessions speaking gRPC's unary framing with the generated codecs,
 * as a load tool such as ghz does, rather than grpc-js's client, whose per-call objects are the largest part of
 * a client's garbage: at 2,000 calls/s its scavenges alone put 4-6 ms pauses into the latencies of any server.
 */
interface Target {
  /** The connection for the n-th call: round-robin over the channels. */
  session(n: number): ClientHttp2Session;
  /** The server's worker processes, whose CPU time the rounds account for. */
  readonly pids: readonly number[];
  close(): void;
}

function connect(address: string, channels: number, pids: readonly number[] = []): Target {
  const open = () => {
    const session = http2Connect(`http://${address}`);
    session.on('error', (err) => progress(`connection to ${address} failed: ${err.message}`));
    return session;
  };
  // One HTTP/2 connection each: node:cluster hands each connection to one worker, so calls reach both. A
  // connection the gateway ages out (GOAWAY after CARBON_GRPC_MAX_CONNECTION_AGE, which closes it here) is
  // replaced, as a gRPC client would.
  const sessions = Array.from({ length: channels }, open);
  return {
    session(n) {
      const i = n % sessions.length;
      const current = sessions[i] as ClientHttp2Session;
      if (!current.closed && !current.destroyed) return current;
      const next = open();
      sessions[i] = next;
      return next;
    },
    pids,
    close: () => sessions.forEach((s) => s.close()),
  };
}

const PREDICT_PATH = '/carbon.v1.PredictionService/Predict';
let sent = 0;

interface CallResult {
  readonly ms: number;
  readonly path: ServingPath | undefined;
  /** Status name and details of a failed call. */
  readonly error?: { readonly code: string; readonly details: string };
  readonly response?: PredictResponse;
}

/** One Predict, round-robin over the channels and the commodities; resolves with its latency in ms and its path or error. */
async function call(target: Target, commodity = COMMODITIES[sent % COMMODITIES.length] as string): Promise<CallResult> {
  const n = sent++;
  const started = performance.now();
  const r = await unaryCall(() => target.session(n), PREDICT_PATH, PredictRequest.encode({ commodity, acceptStale: true }).finish(), 5_000, 64 * 1024);
  const ms = performance.now() - started;
  if (!r.ok) return { ms, path: undefined, error: { code: r.code === undefined ? 'NO_STATUS' : (status[r.code] ?? String(r.code)), details: r.reason } };
  const response = PredictResponse.decode(r.message);
  return { ms, path: response.meta?.path, response };
}

/** What a server did over the rounds of one loop. */
class Tally {
  readonly latencies: number[] = [];
  readonly latenciesByPath = new Map<string, number[]>();
  readonly outcomes: Record<string, number> = {};
  /** The first details seen of each error status. */
  readonly errorDetails: Record<string, string> = {};
  errors = 0;
  completed = 0;
  seconds = 0;
  /** Worst lateness of a send against its schedule (the client's own delay), ms. */
  maxSendLagMs = 0;
  /** CPU time the server's workers used during the rounds, s. */
  cpuSeconds = 0;

  /** A tally sent over from the load generator process (its JSON). */
  static from(data: Tally): Tally {
    return Object.assign(new Tally(), { ...data, latenciesByPath: new Map(data.latenciesByPath as unknown as Array<[string, number[]]>) });
  }

  toJSON(): object {
    return { ...this, latenciesByPath: [...this.latenciesByPath] };
  }

  add(r: CallResult): void {
    if (r.error !== undefined) {
      this.errors++;
      this.outcomes[r.error.code] = (this.outcomes[r.error.code] ?? 0) + 1;
      this.errorDetails[r.error.code] ??= r.error.details;
      return;
    }
    this.completed++;
    this.latencies.push(r.ms);
    const path = r.path === undefined ? 'none' : ServingPath[r.path];
    this.outcomes[path] = (this.outcomes[path] ?? 0) + 1;
    let byPath = this.latenciesByPath.get(path);
    if (byPath === undefined) this.latenciesByPath.set(path, (byPath = []));
    byPath.push(r.ms);
  }

  percentileMs(q: number): number {
    this.latencies.sort((a, b) => a - b);
    return percentile(this.latencies, q);
  }

  get qps(): number {
    return this.completed / this.seconds;
  }

  /** The server's CPU time per answered call, µs: what a call costs, whatever else the machine was doing. */
  get cpuMicrosPerCall(): number {
    return (this.cpuSeconds * 1e6) / this.completed;
  }
}

/** `rate` calls/s on a fixed schedule for `seconds`: every millisecond tick sends the calls that are due. */
async function openLoop(target: Target, rate: number, seconds: number, tally: Tally): Promise<void> {
  const total = Math.round(rate * seconds);
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let issued = 0;
  while (issued < total) {
    const elapsed = performance.now() - started;
    const due = Math.min(total, Math.floor((elapsed * rate) / 1_000) + 1);
    if (due > issued) tally.maxSendLagMs = Math.max(tally.maxSendLagMs, elapsed - (issued * 1_000) / rate);
    while (issued < due) {
      pending.push(call(target).then((r) => tally.add(r)));
      issued++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  tally.seconds += (performance.now() - started) / 1_000;
}

/** `inflight` calls always outstanding for `seconds`. */
async function closedLoop(target: Target, inflight: number, seconds: number, tally: Tally): Promise<void> {
  const started = performance.now();
  const endAt = started + seconds * 1_000;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (performance.now() < endAt) tally.add(await call(target));
  }));
  tally.seconds += (performance.now() - started) / 1_000;
}

/**
 * The servers in alternating rounds (gateway, unmetered, echo, http2, gateway, ...), so that all see the same
 * machine load on a shared machine; the samples of a server's rounds are pooled.
 */
async function alternate(rounds: number, targets: Record<ServerName, Target>, run: (target: Target, tally: Tally) => Promise<void>, meteringOn: (on: boolean) => Promise<void>): Promise<Tallies> {
  const tallies = Object.fromEntries(SERVERS.map((name) => [name, new Tally()])) as Tallies;
  const measured = async (target: Target, tally: Tally) => {
    const cpu = () => target.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const before = cpu();
    await run(target, tally);
    tally.cpuSeconds += cpu() - before;
  };
  for (let i = 0; i < rounds; i++) {
    for (const name of SERVERS) {
      if (isPlatform(name)) await meteringOn(name === 'gateway');
      await measured(targets[name], tallies[name]);
    }
  }
  return tallies;
}

/** `routed`: the server is the gateway; the echo servers send one canned answer, whose path says nothing. */
function describe(t: Tally, routed: boolean): string {
  const byPath = [...t.latenciesByPath].map(([path, ms]) => {
    ms.sort((a, b) => a - b);
    return `${path.replace('SERVING_PATH_', '').toLowerCase()} ${ms.length} p50 ${percentile(ms, 0.5).toFixed(2)} p99 ${percentile(ms, 0.99).toFixed(2)}`;
  });
  return `p50 ${t.percentileMs(0.5).toFixed(3)} ms p99 ${t.percentileMs(0.99).toFixed(3)} ms ${t.qps.toFixed(0)} calls/s, server CPU ${t.cpuMicrosPerCall.toFixed(0)} µs a call${routed ? ` (${byPath.join('; ')})` : ''}${t.errors > 0 ? ` errors ${JSON.stringify(t.outcomes)} ${JSON.stringify(t.errorDetails)}` : ''}, send lag max ${t.maxSendLagMs.toFixed(1)} ms`;
}

async function warmUp(target: Target): Promise<void> {
  await closedLoop(target, 16, 2, new Tally());
}

// ---------------------------------------------------------------------------------------------------------------
// The platform under test: a cluster with ticks and a model of each commodity.

async function feedAndTrain(env: Awaited<ReturnType<typeof benchEnvironment>>): Promise<void> {
  const publisher = await connectKafkaTickPublisher(createKafka(BROKERS, 'carbon-bench-grpc'), { topic: env.topics.prices, maxMessageBytes: 64 * 1024, batchSize: 2_000 });
  const series = COMMODITIES.map((commodity, i) => ar1PriceSeries({ length: TRAIN_TICKS + SERVE_TICKS, phi: 0.2, seed: 100 + i }).map((p): PriceTick => ({ commodity, tsMs: p.tsMs, price: p.price, unit: 'USD', source: 'bench:grpc' })));
  const waitForFeatures = async (n: number) => {
    for (;;) {
      const { rows } = await env.db.query<{ n: string }>('SELECT count(*) AS n FROM features');
      if (Number(rows[0]?.n ?? 0) >= n) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await publisher.publish(series.flatMap((s) => s.slice(0, TRAIN_TICKS)));
  await publisher.flush();
  await waitForFeatures(COMMODITIES.length * TRAIN_TICKS);
  progress(`${COMMODITIES.length * TRAIN_TICKS} ticks stored; training ${COMMODITIES.length} models`);
  const store = postgresStore(env.databaseUrl);
  const producer = await kafkaProducer(createKafka(BROKERS, 'carbon-bench-grpc-models'));
  try {
    const registry = new ModelRegistry(sqlModelStore(store), modelUpdatePublisher(producer, env.topics.modelUpdates));
    // Every commodity gets a champion (no_change when nothing beats it): what Predict serves is all the bench needs.
    const params = resolveTrainParams({ horizons: [1], forest: { trees: 20, maxDepth: 6, seed: 1 } });
    const outcomes = await trainCommodities(COMMODITIES, params, { sql: store, registry, train: sequentialForestTrainer(params.forest), log: createLogger({}, () => undefined), actor: 'bench' });
    for (const o of outcomes) if (!o.ok) throw new Error(`training ${o.commodity} failed: ${o.error.message}`);
  } finally {
    await producer.close();
    await store.close();
  }
  // Replicas swap on model-updates; the ticks after that get predictions.
  await new Promise((r) => setTimeout(r, 2_000));
  await publisher.publish(series.flatMap((s) => s.slice(TRAIN_TICKS)));
  await publisher.close();
  await waitForFeatures(COMMODITIES.length * (TRAIN_TICKS + SERVE_TICKS));
}

export const summary = 'Predict on a 2-worker cluster: open-loop latency and closed-loop throughput, against a bare grpc-js echo server and a bare node:http2 one measured in the same rounds.';

export const options = {
  rate: { default: 2_000, help: 'calls/s of the open loop' },
  seconds: { default: 20, help: 'open-loop time on each server, s, split over the rounds' },
  inflight: { default: 64, help: 'calls outstanding in the closed loop', integer: true },
  'closed-seconds': { default: 10, help: 'closed-loop time on each server, s, split over the rounds', min: 0.001 },
  channels: { default: 8, help: 'HTTP/2 connections of the load generator', integer: true },
  rounds: { default: 4, help: 'alternating rounds of each loop', integer: true },
} as const satisfies OptionSpecs;

export default async function grpcBench(o: OptionValues<typeof options>): Promise<BenchResult> {
  const { rate, seconds, inflight, channels, rounds } = o;
  const closedSeconds = o['closed-seconds'];
  // BENCH_LOG_LEVEL=debug shows why calls were answered degraded (the cluster log is /tmp/<database>.log).
  const env = await benchEnvironment(4, { CARBON_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' });
  const grpcPort = await freePort();
  progress(`database ${env.name}; starting 2 workers, gRPC on ${grpcPort}`);
  const platform = await startBenchCluster(env, 2, { CARBON_GRPC_PORT: String(grpcPort), CARBON_GRPC_INTERNAL_PORT_BASE: '0' });
  const echoes: Array<Awaited<ReturnType<typeof startEchoServer>>> = [];
  try {
    await feedAndTrain(env);
    // Every commodity must be served with a prediction before measuring.
    let sample: PredictResponse | undefined;
    const probe = connect(`127.0.0.1:${grpcPort}`, 1);
    for (const commodity of COMMODITIES) {
      for (let attempt = 0; ; attempt++) {
        const r = await call(probe, commodity);
        if (r.response?.prediction !== undefined) {
          sample ??= r.response;
          break;
        }
        if (attempt > 100) throw new Error(`${commodity} has no prediction: ${r.error?.details ?? 'none'}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    probe.close();
    const echo = await startEchoServer(sample as PredictResponse, 'echo');
    echoes.push(echo);
    const http2 = await startEchoServer(sample as PredictResponse, 'http2');
    echoes.push(http2);
    progress(`Predict answers ${PredictResponse.encode(sample as PredictResponse).finish().length} bytes; starting the load generator`);
    const gateway = { address: `127.0.0.1:${grpcPort}`, pids: await platform.workerPids(), healthz: `${platform.metricsUrl}/healthz` };
    const servers = { gateway, unmetered: gateway, echo, http2 };
    const { open, closed } = await runLoadGenerator({ servers, rate, seconds, inflight, closedSeconds, channels, rounds });
    for (const [loop, tallies] of [['open', open], ['closed', closed]] as const) {
      for (const name of SERVERS) progress(`${loop} loop, ${name.padEnd(9)}: ${describe(tallies[name], isPlatform(name))}`);
    }
    const calls = open.gateway.completed + open.gateway.errors;
    return {
      bench: 'grpc',
      rate,
      p50_ms: Number(open.gateway.percentileMs(0.5).toFixed(3)),
      p99_ms: Number(open.gateway.percentileMs(0.99).toFixed(3)),
      qps: Math.round(closed.gateway.qps),
      echo_qps: Math.round(closed.echo.qps),
      ratio: Number((closed.gateway.qps / closed.echo.qps).toFixed(3)),
      // Throughput without usage metering over with it, same run, alternating rounds; and the same as CPU per call.
      metering_overhead: Number((closed.unmetered.qps / closed.gateway.qps).toFixed(3)),
      unmetered_qps: Math.round(closed.unmetered.qps),
      metering_cpu_ratio: Number((closed.gateway.cpuMicrosPerCall / closed.unmetered.cpuMicrosPerCall).toFixed(3)),
      // The servers' CPU time per call in the closed loop: the efficiency behind `ratio`, read from /proc, so it
      // holds when the machine is busy with something else and throughput and latency do not.
      cpu_us_per_call: Math.round(closed.gateway.cpuMicrosPerCall),
      echo_cpu_us_per_call: Math.round(closed.echo.cpuMicrosPerCall),
      cpu_ratio: Number((closed.echo.cpuMicrosPerCall / closed.gateway.cpuMicrosPerCall).toFixed(3)),
      echo_p50_ms: Number(open.echo.percentileMs(0.5).toFixed(3)),
      echo_p99_ms: Number(open.echo.percentileMs(0.99).toFixed(3)),
      // The floor: what node:http2 alone does on this machine under the same load.
      http2_p50_ms: Number(open.http2.percentileMs(0.5).toFixed(3)),
      http2_p99_ms: Number(open.http2.percentileMs(0.99).toFixed(3)),
      http2_qps: Math.round(closed.http2.qps),
      errors: open.gateway.errors + closed.gateway.errors,
      local_share: Number(((open.gateway.outcomes.SERVING_PATH_LOCAL ?? 0) / calls).toFixed(3)),
      forwarded_share: Number(((open.gateway.outcomes.SERVING_PATH_FORWARDED ?? 0) / calls).toFixed(3)),
      degraded_share: Number(((open.gateway.outcomes.SERVING_PATH_DEGRADED ?? 0) / calls).toFixed(3)),
    };
  } finally {
    for (const echo of echoes) await echo.stop();
    await platform.stop();
    await env.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The load generator: a process of its own, so that its garbage is its own and the bench's set-up objects (Kafka,
// Postgres clients) are not in its heap; semi-spaces of 1 MB keep each of its scavenges well under a millisecond.

const LOAD_PLAN_VARIABLE = 'CARBON_BENCH_GRPC_LOAD';

interface LoadPlan {
  /** Each server's address and worker processes. */
  readonly servers: Record<ServerName, { readonly address: string; readonly pids: readonly number[]; /** The platform's list of live workers. */ readonly healthz?: string }>;
  readonly rate: number;
  readonly seconds: number;
  readonly inflight: number;
  readonly closedSeconds: number;
  readonly channels: number;
  readonly rounds: number;
}

type Tallies = Readonly<Record<ServerName, Tally>>;

async function runLoadGenerator(plan: LoadPlan): Promise<{ open: Tallies; closed: Tallies }> {
  const child = spawn(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', new URL(import.meta.url).pathname], {
    env: { ...process.env, [LOAD_PLAN_VARIABLE]: JSON.stringify(plan) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  const result = JSON.parse(Buffer.concat(out).toString()) as { open: Tallies; closed: Tallies };
  const revive = (t: Tallies): Tallies => Object.fromEntries(SERVERS.map((name) => [name, Tally.from(t[name])])) as Tallies;
  return { open: revive(result.open), closed: revive(result.closed) };
}

async function generateLoad(plan: LoadPlan): Promise<void> {
  // `unmetered` is the gateway on the same connections: the same workers answer the same share of calls locally.
  const targets = Object.fromEntries(SERVERS.filter((name) => name !== 'unmetered').map((name) => [name, connect(plan.servers[name].address, plan.channels, plan.servers[name].pids)])) as Record<ServerName, Target>;
  targets.unmetered = targets.gateway;
  progress(`warming up the servers: ${SERVERS.join(', ')}`);
  for (const name of SERVERS) if (name !== 'unmetered') await warmUp(targets[name]);
  progress(`open loop: ${plan.rate} calls/s for ${plan.seconds} s on each server, in ${plan.rounds} alternating rounds`);
  // Each worker meters calls from its start (a worker the primary restarted too); SIGUSR2 switches it, so the state
  // of each live worker is followed here.
  const metering = new Map<number, boolean>();
  const meteringOn = async (on: boolean): Promise<void> => {
    const { pids } = (await (await fetch(plan.servers.gateway.healthz ?? '')).json()) as { pids: number[] };
    const switching = pids.filter((pid) => (metering.get(pid) ?? true) !== on);
    for (const pid of switching) {
      process.kill(pid, 'SIGUSR2');
      metering.set(pid, on);
    }
    if (switching.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  const open = await alternate(plan.rounds, targets, (target, tally) => openLoop(target, plan.rate, plan.seconds / plan.rounds, tally), meteringOn);
  progress(`closed loop: ${plan.inflight} in flight for ${plan.closedSeconds} s on each server, in ${plan.rounds} alternating rounds`);
  const closed = await alternate(plan.rounds, targets, (target, tally) => closedLoop(target, plan.inflight, plan.closedSeconds / plan.rounds, tally), meteringOn);
  await meteringOn(true);
  for (const [name, target] of Object.entries(targets)) if (name !== 'unmetered') target.close();
  process.stdout.write(JSON.stringify({ open, closed }));
}

const loadPlan = process.env[LOAD_PLAN_VARIABLE];
if (loadPlan !== undefined) await generateLoad(JSON.parse(loadPlan) as LoadPlan);

const echoPort = process.env[ECHO_PORT_VARIABLE];
if (echoPort !== undefined) await runEchoServer(Number(echoPort), process.env[ECHO_RESPONSE_VARIABLE] ?? '', process.env[ECHO_KIND_VARIABLE] === 'http2' ? 'http2' : 'echo');
