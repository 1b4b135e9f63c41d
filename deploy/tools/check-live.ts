/**
 * The live check of the monitoring (issue 7), run by check-live.sh: a real Prometheus scrapes a running cluster
 * (and a Pushgateway for the batch jobs) while a scenario runs, then every Grafana panel query must return data over
 * the time since scraping began (stat panels: now) and every alert rule must evaluate; `promtool check metrics` must be clean on /metrics before and after.
 *
 * Usage: npx tsx deploy/tools/check-live.ts [-- scenario command...]
 *   env: METRICS_URL (http://127.0.0.1:9464/metrics), SCRAPE_WINDOW_S (60: how long to scrape when no scenario
 *   is given), PANELS_TIMEOUT_S (60: how long to wait for the last events to reach every panel)
 * The scenario runs with CARBON_PUSHGATEWAY_URL (for `carbon ingest` and `carbon train`) and PROMETHEUS_URL set.
 * Exits 0 when everything passed, 1 when something failed, 2 when a tool or the cluster is missing.
 */
import { spawn } from 'node:child_process';
import { checkMetrics, scrapeIntervalS, startPrometheus, startPushgateway, type RunningServer } from './live-prometheus.ts';
import { awaitPanels, awaitRuleEvaluations, describePanelResult, describeRuleResult, passes } from './live-queries.ts';

const metricsUrl = process.env.METRICS_URL ?? 'http://127.0.0.1:9464/metrics';
const scrapeWindowS = Number(process.env.SCRAPE_WINDOW_S ?? '60');
const panelsTimeoutS = Number(process.env.PANELS_TIMEOUT_S ?? '60');
const args = process.argv.slice(2);
const scenario = args[0] === '--' ? args.slice(1) : args;
const say = (line: string) => process.stderr.write(`[check-live] ${line}\n`);

async function lint(when: string): Promise<boolean> {
  let exposition: string;
  try {
    exposition = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  } catch (err) {
    throw new Error(`no cluster answers on ${metricsUrl} (${(err as Error).message}): start one with carbon start (real Kafka, Postgres, Redis) first`, { cause: err });
  }
  const { ok, output } = checkMetrics(exposition);
  say(`promtool check metrics ${when}: ${ok ? 'clean' : `problems:\n${output}`}`);
  return ok;
}

function runScenario(command: readonly string[], env: Record<string, string>): Promise<number> {
  const [file, ...rest] = command as [string, ...string[]];
  const child = spawn(file, rest, { stdio: 'inherit', env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const servers: RunningServer[] = [];
let failed = false;
try {
  if (!(await lint('before the scenario'))) failed = true;
  const pushgateway = await startPushgateway();
  servers.push(pushgateway);
  const prometheus = await startPrometheus({ metricsUrl, pushgatewayUrl: pushgateway.url });
  servers.push(prometheus);
  const fromS = Date.now() / 1000;
  say(`prometheus ${prometheus.url} scraping ${metricsUrl} and the pushgateway ${pushgateway.url} every 2 s`);
  if (scenario.length > 0) {
    say(`scenario: ${scenario.join(' ')}`);
    const status = await runScenario(scenario, { CARBON_PUSHGATEWAY_URL: pushgateway.url, PROMETHEUS_URL: prometheus.url });
    if (status !== 0) {
      say(`the scenario exited with status ${status}`);
      failed = true;
    }
  } else {
    say(`no scenario given: scraping for ${scrapeWindowS} s while the caller's traffic flows (CARBON_PUSHGATEWAY_URL=${pushgateway.url})`);
    await new Promise((resolve) => setTimeout(resolve, scrapeWindowS * 1_000));
  }
  const panels = await awaitPanels(prometheus.url, { rateWindow: '1m', fromS, stepS: scrapeIntervalS }, panelsTimeoutS * 1_000);
  const rules = await awaitRuleEvaluations(prometheus.url, panelsTimeoutS * 1_000);
  for (const r of panels) process.stdout.write(`${describePanelResult(r)}\n`);
  for (const r of rules) process.stdout.write(`${describeRuleResult(r)}\n`);
  const failures = panels.filter((r) => !passes(r)).length + rules.filter((r) => r.health !== 'ok').length;
  process.stdout.write(`${panels.length + rules.length - failures} passed, ${failures} failed\n`);
  if (failures > 0) failed = true;
  if (!(await lint('after the scenario'))) failed = true;
} catch (err) {
  say((err as Error).message);
  process.exitCode = 2;
} finally {
  for (const s of servers.reverse()) await s.stop();
}
if (process.exitCode === undefined) process.exitCode = failed ? 1 : 0;
