/**
 * Issue 17: alerts that fire when their cause is there. On a running `carbon start` cluster under a real Prometheus,
 * the causes that can be produced live within a test's time are: an escalation (the chaos control crashing a
 * commodity's actor past its restart intensity), a steady stream of dead letters (garbage on the prices topic),
 * a pod whose metrics endpoint does not answer (its primary SIGSTOPped) and workers that keep dying (SIGKILL). Each
 * must put its alert into firing. The other alerts need a cause that lasts 30 minutes to days (no predictions for 30
 * minutes, a shift for an hour, a model two days old) or a lag, unowned partitions or a failure rate held for
 * minutes on a pipeline that recovers in seconds (the group gave a killed worker's partitions to the other in less
 * than the 30 s of CarbonPartitionsUnowned's scaled `for:`, even with a 45 s session timeout). promtool's unit
 * tests (deploy/prometheus/rules.test.yml) fire them on synthetic series, and this test checks that every alert is
 * covered one way or the other.
 *
 * The rules are those of rules.yml with each `for:` divided by FOR_SCALE (scaled-rules.ts). That is sound because
 * `for:` says only how long an expression must hold before its alert fires: the expressions, with their
 * thresholds, range windows and offsets, are the ones written, so the cause must make each expression true and
 * keep it true from evaluation to evaluation, pending first and then firing. That the durations are the ones
 * written, not shorter, is what promtool checks on the unscaled rules (cases before and after each `for:`). The
 * shortest scaled `for:` (2 minutes: 12 s) still spans two evaluations (every 5 s, alert-watch.ts), so pending is
 * seen before firing.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createKafka } from '../connectors/kafka/client.ts';
import { startPrometheus, type RunningServer } from '../deploy/tools/live-prometheus.ts';
import { prometheusDir, rulesPath } from '../deploy/tools/prometheus-rule.ts';
import { awaitRuleEvaluations, describeRuleResult, instantQuery } from '../deploy/tools/live-queries.ts';
import { ALERT_TEST_INTERVAL_S, describeAlert, watchAlerts, type AlertWatch } from './alert-watch.ts';
import { processExited, startCluster, testEnvironment, tickPublisher, type RunningCluster } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { KAFKA_BROKERS } from './services.ts';
import { alertsOf, ruleGroups, scaleForDurations } from './scaled-rules.ts';

const FOR_SCALE = 10;
/** The alerts whose cause this test produces. */
const LIVE = ['CarbonEscalations', 'CarbonDeadLetterRate', 'CarbonWorkerDown', 'CarbonWorkerRestarts'] as const;
/** Dead letters on top of the first: 60 in the 5-minute window are 0.2/s, twice CarbonDeadLetterRate's threshold. */
const DEAD_LETTERS = 60;

const rulesText = readFileSync(rulesPath, 'utf8');

/** Alerts that a promtool unit test expects to fire. */
function promtoolFiring(): Set<string> {
  const unitTests = parse(readFileSync(join(prometheusDir, 'rules.test.yml'), 'utf8')) as {
    tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
  };
  return new Set(unitTests.tests.flatMap((u) => (u.alert_rule_test ?? []).filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname)));
}

test('every alert fires, live here or in a promtool unit test', (t) => {
  const live = new Set<string>(LIVE);
  const firing = promtoolFiring();
  const alerts = alertsOf(rulesText).map((a) => a.name);
  t.deepEqual(alerts.filter((a) => !live.has(a) && !firing.has(a)), [], 'alerts fired nowhere');
  t.deepEqual(LIVE.filter((a) => !alerts.includes(a)), [], 'live alerts that rules.yml does not have');
});

test('the scaled rules differ from rules.yml only in their for: durations, each divided by the factor', (t) => {
  const scaled = scaleForDurations(rulesText, FOR_SCALE);
  const withoutFor = (text: string) => ruleGroups(text).groups.map((g) => ({ ...g, rules: g.rules.map(({ for: _, ...rest }) => rest) }));
  t.deepEqual(withoutFor(scaled), withoutFor(rulesText));
  const original = new Map(alertsOf(rulesText).map((a) => [a.name, a.forS]));
  for (const a of alertsOf(scaled)) t.is(a.forS, original.get(a.name)! === 0 ? 0 : Math.max(1, Math.round(original.get(a.name)! / FOR_SCALE)), a.name);
  t.true(alertsOf(scaled).every((a) => a.forS === 0 || a.forS >= 2 * ALERT_TEST_INTERVAL_S), 'every scaled for: spans two evaluations');
});

/** Waits until each of `names` has been seen firing, and says which were not when it gives up. */
async function awaitFiring(watch: AlertWatch, names: readonly string[], timeoutMs: number): Promise<void> {
  const firing = () => new Set(watch.seen().filter((s) => s.alert.state === 'firing').map((s) => s.alert.name));
  try {
    await eventually(() => names.every((n) => firing().has(n)), { what: `${names.join(', ')} firing`, timeoutMs, intervalMs: 500 });
  } catch (err) {
    throw new Error(`${(err as Error).message}; not firing: ${names.filter((n) => !firing().has(n)).join(', ')}; seen: ${watch.seen().map((s) => describeAlert(s.alert)).join('; ')}`);
  }
}

/** Waits until Prometheus has scraped a series matching `selector`. */
async function scraped(prometheus: RunningServer, selector: string): Promise<void> {
  await eventually(async () => ((await instantQuery(prometheus.url, selector)).series.length > 0), {
    what: `prometheus to have scraped ${selector}`, timeoutMs: 30_000, intervalMs: 250,
  });
}

/** SIGKILLs one worker and waits until the primary has started another in its place. */
async function killWorker(cluster: RunningCluster): Promise<void> {
  const [victim] = await cluster.workerPids();
  if (victim === undefined) throw new Error('no worker to kill');
  process.kill(victim, 'SIGKILL');
  await processExited(victim);
  await eventually(async () => {
    const pids = await cluster.workerPids();
    return pids.length === 2 && !pids.includes(victim);
  }, { what: `a worker in place of ${victim}`, timeoutMs: 30_000, intervalMs: 100 });
}

function timer(t: ExecutionContext): (what: string) => void {
  const startedMs = Date.now();
  return (what) => t.log(`${((Date.now() - startedMs) / 1000).toFixed(1)} s: ${what}`);
}

test('escalations, dead letters, an unanswering metrics endpoint and dying workers each fire their alert under the real Prometheus', async (t) => {
  t.timeout(420_000);
  const log = timer(t);
  const env = await testEnvironment(t, 12);
  const cluster = await startCluster(t, env);
  const primary = cluster.child.pid;
  if (primary === undefined) return t.fail('no pid of the cluster primary');
  const prometheus = await startPrometheus({ metricsUrl: `${cluster.metricsUrl}/metrics` }, { rulesText: scaleForDurations(rulesText, FOR_SCALE), intervalS: ALERT_TEST_INTERVAL_S });
  t.teardown(() => prometheus.stop());
  t.teardown(() => {
    if (!t.passed) t.log(`prometheus log:\n${prometheus.log()}`);
  });
  const rules = await awaitRuleEvaluations(prometheus.url, 30_000);
  t.deepEqual(rules.filter((r) => r.health !== 'ok').map(describeRuleResult), [], 'every rule evaluates');
  const watch = watchAlerts(prometheus.url);
  t.teardown(() => watch.stop());
  log('cluster and prometheus up, scaled rules evaluated');

  // Escalation: WTI's actor crashed past commodityActorPolicy's 5 restarts in 10 s.
  const publisher = await tickPublisher(t, env);
  await publisher.publish([1, 2, 3].map((i) => ({ commodity: 'WTI', tsMs: Date.now() - 10_000 + i, price: 70 + i, unit: 'USD', source: 'test:alerts' })));
  await publisher.flush();
  await eventually(async () => (await cluster.metric('carbon_actors_active', { kind: 'commodity' })) >= 1, { what: 'the actor of WTI', timeoutMs: 30_000, intervalMs: 100 });
  for (let i = 0; i < 8; i++) await cluster.chaos('commodity=WTI');
  await eventually(async () => (await cluster.metric('carbon_escalations_total')) >= 1, { what: 'an escalation', timeoutMs: 30_000, intervalMs: 100 });
  log('WTI escalated');

  // Dead letters: undecodable messages from some producer. A reason's series appears with its first letter, which
  // rate() cannot count: the stream follows once Prometheus has it.
  const producer = createKafka(KAFKA_BROKERS, 'carbon-test-alerts-fire').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const garbage = { key: 'WTI', value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) };
  await producer.send({ topic: env.topics.prices, messages: [garbage] });
  await scraped(prometheus, 'carbon_dlq_total');
  await producer.send({ topic: env.topics.prices, messages: Array.from({ length: DEAD_LETTERS }, () => garbage) });
  await eventually(async () => (await cluster.metric('carbon_dlq_total')) >= DEAD_LETTERS + 1, { what: 'every garbage message dead-lettered', timeoutMs: 30_000, intervalMs: 100 });
  log(`${DEAD_LETTERS + 1} dead letters`);

  await awaitFiring(watch, ['CarbonEscalations', 'CarbonDeadLetterRate'], 120_000);
  log('escalations and dead letters firing');

  // The pod's metrics endpoint stops answering: its primary, which serves it, stopped.
  t.deepEqual(watch.seen().filter((s) => s.alert.name === 'CarbonWorkerDown').map((s) => describeAlert(s.alert)), [], 'the pod was up until now');
  process.kill(primary, 'SIGSTOP');
  try {
    await awaitFiring(watch, ['CarbonWorkerDown'], 60_000);
  } finally {
    process.kill(primary, 'SIGCONT');
  }
  log('worker down firing');

  // Workers that keep dying, last: they disturb the rest (rebalances, scrapes that wait for a starting worker).
  // An exit reason's series appears with its first restart (which the rule counts only where Prometheus has 15
  // minutes of the pod), so three more restarts follow once it is scraped.
  await killWorker(cluster);
  await scraped(prometheus, 'carbon_worker_restarts_total');
  for (let i = 0; i < 3; i++) await killWorker(cluster);
  log('4 workers SIGKILLed and restarted');
  await awaitFiring(watch, ['CarbonWorkerRestarts'], 60_000);
  log('worker restarts firing');

  await watch.stop();
  const seen = watch.seen();
  for (const name of LIVE) {
    const firstAt = (state: 'pending' | 'firing') => seen.find((s) => s.alert.name === name && s.alert.state === state)?.atMs;
    const forS = scaledFor(name);
    if (forS > 0) t.true((firstAt('pending') ?? Infinity) < (firstAt('firing') ?? -Infinity), `${name} was pending before it fired`);
    t.log(`${name}: for ${forS} s scaled, pending at ${fmt(firstAt('pending'))}, firing at ${fmt(firstAt('firing'))}`);
  }
});

const scaledAlerts = new Map(alertsOf(scaleForDurations(rulesText, FOR_SCALE)).map((a) => [a.name, a.forS]));
const scaledFor = (name: string): number => scaledAlerts.get(name) ?? 0;
const fmt = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
