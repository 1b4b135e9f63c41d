/**
 * The monitoring checked live (issue 7): a real Prometheus (Debian's prometheus) scrapes a running `carbon start`
 * cluster and a real Pushgateway every 2 s, with the alert rules loaded, while a scenario touches every panel:
 * ticks flowing the whole time, a real `carbon ingest` and `carbon train` pushing their metrics, a model promoted
 * (swaps, version, live hit rate and coverage from realized predictions), gRPC calls with errors, a worker SIGKILLed
 * (a degraded answer, the primary restarting it), an actor crash, an escalation, a malformed message (DLQ). Then
 * every panel query of every dashboard must return data, the panels of those events must show them, every rule
 * must evaluate, and `promtool check metrics` must be clean on the cluster's /metrics.
 */
import test, { type ExecutionContext } from 'ava';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka } from '../connectors/kafka/client.ts';
import type { TickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { checkMetrics, scrapeIntervalS, startPrometheus, startPushgateway, type RunningServer } from '../deploy/tools/live-prometheus.ts';
import { awaitPanels, awaitRuleEvaluations, describePanelResult, describeRuleResult, instantQuery, largestValue, passes, type PanelQueryResult } from '../deploy/tools/live-queries.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { PredictionServiceClient, ServingPath, type PredictResponse } from '../proto/gen/carbon/v1/prediction_service.ts';
import { startCluster, testEnvironment, tickPublisher, processExited } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { seriesTicks, waitForRows } from './pipeline-expectations.ts';
import { KAFKA_BROKERS } from './services.ts';

const root = join(import.meta.dirname, '..');
const dataDir = join(root, 'data');
const PARTITIONS = 4;
/**
 * BRENT rows streamed live after the promotion (`carbon ingest` publishes the ones before). Enough that BRENT's
 * partition, moved by the worker kill below, still sees a whole shift window (SHIFT_WINDOW, 500 ticks) on its new
 * worker and exports its PSI: with 400 the PSI panel stayed empty whenever the kill came late on a loaded machine.
 */
const BRENT_LIVE = 1_000;

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function carbon(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'cli', 'bin.js'), ...args], {
      cwd: root,
      env: { ...process.env, ...env, CARBON_LOG_LEVEL: 'warn', KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      timeout: 90_000,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Publishes `ticks` a few at a time with a pause between, in the background, until they run out or stop() is
 * called (which resolves once the last publish has finished).
 */
function backgroundFeed(publisher: TickPublisher, ticks: readonly PriceTick[], perSlice: number, pauseMs: number): { stop(): Promise<void>; sent(): number } {
  let stopped = false;
  let sent = 0;
  const running = (async () => {
    while (!stopped && sent < ticks.length) {
      const slice = ticks.slice(sent, sent + perSlice);
      await publisher.publish(slice);
      await publisher.flush();
      sent += slice.length;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
    },
    sent: () => sent,
  };
}

type Answer = { ok: true; res: PredictResponse } | { ok: false; err: ServiceError };

function predict(client: PredictionServiceClient, commodity: string): Promise<Answer> {
  return new Promise((resolve) => {
    client.predict({ commodity, acceptStale: true }, new Metadata({ waitForReady: true }), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res) => {
      resolve(err ? { ok: false, err } : { ok: true, res });
    });
  });
}

/**
 * gRPC traffic the whole time: BRENT (answered once its model serves), WTI (no model: UNAVAILABLE) and a commodity
 * that never had a tick (NOT_FOUND), every 250 ms, on connections of their own. Returns the status codes seen.
 */
function backgroundCalls(address: string): { stop(): Promise<Map<string, number>> } {
  const client = new PredictionServiceClient(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const codes = new Map<string, number>();
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      for (const commodity of ['BRENT', 'WTI', 'NO_SUCH_COMMODITY']) {
        const a = await predict(client, commodity);
        const code = a.ok ? 'OK' : status[a.err.code];
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      client.close();
      return codes;
    },
  };
}

function ownerPid(answer: Answer): number | undefined {
  if (!answer.ok) return undefined;
  const pid = Number(answer.res.meta?.owner.split(':')[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}


/** Waits until Prometheus has scraped a series matching `selector`. */
async function scraped(prometheus: RunningServer, selector: string): Promise<void> {
  await eventually(async () => ((await instantQuery(prometheus.url, selector)).series.length > 0), {
    what: `prometheus to have scraped ${selector}`, timeoutMs: 30_000, intervalMs: 250,
  });
}

async function startServer(t: ExecutionContext, start: () => Promise<RunningServer>): Promise<RunningServer> {
  const server = await start();
  t.teardown(() => server.stop());
  return server;
}

function lintMetrics(t: ExecutionContext, exposition: string, when: string): void {
  const lint = checkMetrics(exposition);
  t.true(lint.ok, `promtool check metrics ${when}:\n${lint.output}`);
}

test('a real Prometheus scraping a running cluster and the Pushgateway gets data for every dashboard panel and evaluates every rule', async (t) => {
  t.timeout(240_000);
  const startedMs = Date.now();
  const elapsed = () => `${((Date.now() - startedMs) / 1000).toFixed(1)} s`;
  const env = await testEnvironment(t, PARTITIONS);
  const [pushgateway, cluster] = await Promise.all([
    startServer(t, () => startPushgateway()),
    // Anomaly alerts on ordinary daily moves too, so that the alerts panel has some; a session timeout long enough
    // for a call to find BRENT's owner dead before the group moves BRENT.
    startCluster(t, env, { CARBON_OWNERSHIP_REFRESH: '250ms', CARBON_ZSCORE_THRESHOLD: '1.5', CARBON_KAFKA_SESSION_TIMEOUT: '6s' }),
  ]);
  const prometheus = await startServer(t, () => startPrometheus({ metricsUrl: `${cluster.metricsUrl}/metrics`, pushgatewayUrl: pushgateway.url }));
  const scrapedFromS = Date.now() / 1000;
  t.teardown(() => {
    if (!t.passed) t.log(`prometheus log:\n${prometheus.log()}\npushgateway log:\n${pushgateway.log()}`);
  });
  lintMetrics(t, await cluster.metrics(), 'on a cluster that just started');
  t.log(`${elapsed()}: cluster, pushgateway and prometheus up`);

  // Ticks from now to the end: WTI (never gets a model: its ticks count as unpredicted).
  const publisher = await tickPublisher(t, env);
  const wti = seriesTicks('WTI', 'wti-daily.csv').filter((k) => k.tsMs >= Date.UTC(2019, 0, 1));
  const wtiFeed = backgroundFeed(publisher, wti, 1, 100);
  t.teardown(() => wtiFeed.stop());
  const calls = backgroundCalls(cluster.grpcAddress);
  t.teardown(async () => {
    await calls.stop();
  });

  // The daily batch jobs as the CronJobs run them, pushing to the Pushgateway: ingest of BRENT up to its last
  // BRENT_LIVE days, then a small model trained on those features.
  const brent = seriesTicks('BRENT', 'brent-daily.csv');
  const firstLive = brent[brent.length - BRENT_LIVE];
  if (!firstLive) return t.fail('the BRENT series is too short');
  const jobEnv = { ...env.env, CARBON_PUSHGATEWAY_URL: pushgateway.url };
  const ingest = await carbon(['ingest', 'csv', join(dataDir, 'brent-daily.csv'), '--from', '2015-01-01', '--to', day(firstLive.tsMs - 86_400_000), '--json'], jobEnv);
  t.is(ingest.code, 0, ingest.stderr);
  const ingested = (JSON.parse(ingest.stdout.trim().split('\n').pop() ?? '{}') as { published: number }).published;
  await eventually(async () => {
    const { rows } = await env.db.query<{ n: string }>("SELECT count(*) AS n FROM features WHERE commodity = 'BRENT'");
    return Number(rows[0]?.n) >= ingested;
  }, { what: `${ingested} BRENT features rows`, timeoutMs: 90_000, intervalMs: 250 });
  t.log(`${elapsed()}: carbon ingest published ${ingested} BRENT ticks, all processed`);

  // Every commodity with history gets a champion (no change when nothing beats it), so BRENT is served after this.
  const train = await carbon(['train', '--commodity', 'BRENT', '--horizons', '1', '--trees', '8', '--depth', '4', '--folds', '2', '--threads', '0', '--json'], jobEnv);
  t.is(train.code, 0, train.stderr);
  const trained = JSON.parse(train.stdout.trim().split('\n').pop() ?? '{}') as { champion: { family: string; version: number } };
  await eventually(async () => (await cluster.metric('carbon_model_swaps_total')) >= 1, { what: 'the champion swapped in', timeoutMs: 30_000, intervalMs: 200 });
  t.log(`${elapsed()}: BRENT champion ${trained.champion.family} v${trained.champion.version} trained and in service`);

  // BRENT streams live from here: each tick predicted, and each prediction realized by the next tick.
  const brentFeed = backgroundFeed(publisher, brent.slice(-BRENT_LIVE), 1, 50);
  t.teardown(() => brentFeed.stop());
  await eventually(async () => (await cluster.metric('carbon_live_hit_rate_ratio')) > 0 || (await cluster.metric('carbon_predictions_total')) > 5, {
    what: 'live BRENT predictions', timeoutMs: 30_000, intervalMs: 200,
  });

  // SIGKILL of the worker that owns BRENT: its calls are answered degraded until the group reassigns BRENT, and
  // the primary restarts the worker.
  const client = new PredictionServiceClient(cluster.grpcAddress, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  t.teardown(() => client.close());
  const victim = ownerPid(await predict(client, 'BRENT'));
  if (victim === undefined) return t.fail('no owner of BRENT');
  const pidsBefore = await cluster.workerPids();
  t.true(pidsBefore.includes(victim), `the owner ${victim} is a worker (${pidsBefore.join(', ')})`);
  process.kill(victim, 'SIGKILL');
  await processExited(victim);
  const paths: string[] = [];
  await eventually(async () => {
    const a = await predict(client, 'BRENT');
    paths.push(a.ok ? ServingPath[a.res.meta?.path ?? ServingPath.SERVING_PATH_UNSPECIFIED] : status[a.err.code]);
    return a.ok && a.res.meta?.path === ServingPath.SERVING_PATH_DEGRADED;
  }, { what: 'a degraded BRENT answer while its owner is dead', timeoutMs: 15_000, intervalMs: 50 }).catch((err: unknown) => {
    t.log(`answers after the kill: ${paths.join(', ')}`);
    throw err;
  });
  await eventually(async () => {
    const pids = await cluster.workerPids();
    // Running (chaos commands reach a worker only once it runs), and the group settled.
    const running = readFileSync(cluster.logFile, 'utf8').split('"event":"worker_running"').length - 1;
    return pids.length === 2 && !pids.includes(victim) && running >= 3 && (await cluster.metric('carbon_partitions_owned')) === PARTITIONS;
  }, { what: 'the killed worker restarted and every partition owned again', timeoutMs: 90_000, intervalMs: 250 });
  t.log(`${elapsed()}: worker ${victim} killed, BRENT answered degraded, worker restarted`);

  // An actor crash (BRENT) and, once Prometheus has its restart series, a restart storm that escalates (WTI:
  // commodityActorPolicy allows 5 in 10 s). A labelled counter's series appears with its first event, which rate()
  // cannot show (it needs two samples): the storm is what the restart panels must show.
  await eventually(async () => (await cluster.metric('carbon_actors_active', { kind: 'commodity' })) >= 2, {
    what: 'the actors of BRENT and WTI running again', timeoutMs: 30_000, intervalMs: 100,
  });
  // Each crashed actor's restart series is scraped once before the storm (a series first seen at its final value
  // shows no rate; the series of reason "Error" exists at 0 from the start and proves nothing here).
  await cluster.chaos('commodity=BRENT');
  await cluster.chaos('commodity=WTI');
  await scraped(prometheus, 'sum(carbon_actor_restarts_total{level="commodity", reason="chaos"}) >= 2');
  for (let i = 0; i < 7; i++) await cluster.chaos('commodity=WTI');
  await eventually(async () => (await cluster.metric('carbon_escalations_total', { level: 'commodity' })) >= 1, {
    what: 'an escalation from the commodity level', timeoutMs: 30_000, intervalMs: 100,
  });

  // Malformed messages from some producer, dead-lettered before they reach an actor (again: a second one once
  // Prometheus has the first, for the rate panels).
  const producer = createKafka(KAFKA_BROKERS, 'carbon-test-monitoring').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const badMessage = { key: 'WTI', value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) };
  await producer.send({ topic: env.topics.prices, messages: [badMessage] });
  await scraped(prometheus, 'carbon_dlq_total{reason="bad_protobuf"}');
  await producer.send({ topic: env.topics.prices, messages: [badMessage] });
  await eventually(async () => (await cluster.metric('carbon_dlq_total', { reason: 'bad_protobuf' })) >= 2, { what: 'both bad messages dead-lettered', timeoutMs: 30_000, intervalMs: 100 });
  t.log(`${elapsed()}: crash, escalation and dead letters done; waiting for every panel`);

  // Every panel as Grafana draws it over the time since scraping began, and those of the scenario's events
  // showing them, once the last events have been scraped.
  const eventPanels = [
    'Actor restarts by level and reason', 'Crash rate by level', 'Recovery time quantiles', 'Worker process restarts (1 h)',
    'Escalations by level (1 h)', 'Dead letters by topic and reason', 'Model swaps (1 h)', 'Degraded answers',
    'Errors by status code', 'Ingest job: rows of its last run by outcome',
  ];
  const largest = (results: readonly PanelQueryResult[], panel: string): number => Math.max(0, ...results.filter((p) => p.panel === panel).map(largestValue));
  const panels = await awaitPanels(prometheus.url, { rateWindow: '1m', fromS: scrapedFromS, stepS: scrapeIntervalS }, 60_000,
    (results) => eventPanels.every((panel) => largest(results, panel) > 0));
  t.log(`${elapsed()}: panels answered`);
  t.log(panels.map(describePanelResult).join('\n'));
  t.deepEqual(panels.filter((p) => !passes(p)).map((p) => `${p.dashboard} / ${p.panel} [${p.refId}]`), [], 'every panel query returns data');
  t.true(panels.length >= 30, `${panels.length} panel queries`);
  for (const panel of eventPanels) t.true(largest(panels, panel) > 0, `${panel} shows the scenario's events (largest value ${largest(panels, panel)})`);
  const errorCodes = panels.filter((p) => p.panel === 'Errors by status code').flatMap((p) => p.series.filter((x) => x.values.some((v) => v > 0)).map((x) => x.labels.code));
  t.true(errorCodes.includes('NOT_FOUND'), `unknown commodities show as NOT_FOUND (codes ${errorCodes.join(', ')})`);
  const pushed = await instantQuery(prometheus.url, 'push_time_seconds');
  t.deepEqual(pushed.series.map((x) => x.labels.job).sort(), ['carbon-ingest', 'carbon-train'], 'both batch jobs pushed their run');

  const rules = await awaitRuleEvaluations(prometheus.url, 30_000);
  for (const r of rules.filter((x) => x.health !== 'ok')) t.log(describeRuleResult(r));
  t.deepEqual(rules.filter((r) => r.health !== 'ok').map((r) => r.name), [], 'every rule evaluates');
  t.true(rules.length >= 10, `${rules.length} rules`);

  lintMetrics(t, await cluster.metrics(), 'after the scenario');
  const codes = await calls.stop();
  t.log(`${elapsed()}: done; gRPC answers of the background caller: ${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}; WTI ticks fed ${wtiFeed.sent()}, BRENT ${brentFeed.sent()}`);
});
