/**
 * The real monitoring tools around a running cluster, for the live check (check-live.ts) and its test
 * (test/monitoring-live.test.ts): Debian's `prometheus` scraping the cluster's /metrics and a Pushgateway every 2 s
 * (the alert tests: 5 s) with deploy/prometheus/rules.yml loaded, the `prometheus-pushgateway` that the batch jobs
 * push to, and `promtool check metrics`. Each server runs on 127.0.0.1 with a throwaway directory and is stopped by
 * its handle.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rulesPath } from './prometheus-rule.ts';
import { freePort } from '../../test/free-port.ts';

/** What a live Prometheus scrapes: the cluster primary's aggregated /metrics and, if given, a Pushgateway. */
export interface ScrapeTargets {
  /** Full URL of the metrics endpoint, e.g. http://127.0.0.1:9464/metrics. */
  readonly metricsUrl: string;
  /** Base URL of the Pushgateway the batch jobs push to, e.g. http://127.0.0.1:9091. */
  readonly pushgatewayUrl?: string;
}

export interface RunningServer {
  readonly url: string;
  /** The server's own output (warnings and errors), for a failure message. */
  log(): string;
  stop(): Promise<void>;
}

export const scrapeIntervalS = 2;

/**
 * prometheus.yml for the live check: the job names of deploy/k8s's ServiceMonitor (no rule depends on them), and
 * carbon-pushgateway, whose samples keep the job label they were pushed with (honor_labels), as the ServiceMonitor
 * of deploy/k8s does.
 */
export function prometheusConfig(targets: ScrapeTargets, rulesFile: string, intervalS = scrapeIntervalS): string {
  const metrics = new URL(targets.metricsUrl);
  const jobs = [
    `  - job_name: carbon-metrics\n    metrics_path: ${metrics.pathname}\n    static_configs:\n      - targets: ['${metrics.host}']\n`,
  ];
  if (targets.pushgatewayUrl !== undefined) {
    jobs.push(`  - job_name: carbon-pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ['${new URL(targets.pushgatewayUrl).host}']\n`);
  }
  return [
    'global:',
    `  scrape_interval: ${intervalS}s`,
    `  scrape_timeout: ${intervalS}s`,
    `  evaluation_interval: ${intervalS}s`,
    'rule_files:',
    `  - ${rulesFile}`,
    'scrape_configs:',
    ...jobs,
  ].join('\n');
}


/** Runs a tool to completion; throws when it cannot run at all (not installed), with the package to install. */
export function runTool(command: string, args: readonly string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(command, args, { input, encoding: 'utf8' });
  if (r.error) throw new Error(`${command} could not run (${r.error.message}): apt-get install ${packageOf(command)}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function packageOf(command: string): string {
  return command === 'prometheus-pushgateway' ? 'prometheus-pushgateway' : 'prometheus';
}

/** `promtool check metrics` on an exposition (the text of /metrics): lint problems, or none. */
export function checkMetrics(exposition: string): { ok: boolean; output: string } {
  const r = runTool('promtool', ['check', 'metrics'], exposition);
  return { ok: r.status === 0, output: r.output.trim() };
}

/** Starts `command` and resolves once `readyUrl` answers 200; rejects if the process exits or `timeoutMs` passes. */
async function startServer(command: string, args: readonly string[], url: string, readyUrl: string, dir: string, timeoutMs: number): Promise<RunningServer> {
  const logFile = join(dir, `${command}.log`);
  const logStream = createWriteStream(logFile);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(logStream);
  child.stderr?.pipe(logStream);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const log = () => readFileSync(logFile, 'utf8');
  const server: RunningServer = {
    url,
    log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      logStream.end();
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = await Promise.race([spawnError, exited.then(() => new Error(`${command} exited: ${log().trim()}`)), pause(250)]);
    if (failed instanceof Error) {
      const notInstalled = 'code' in failed && failed.code === 'ENOENT';
      throw new Error(notInstalled ? `${command} not found: apt-get install ${packageOf(command)}` : failed.message);
    }
    try {
      if ((await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) })).ok) return server;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${command} did not become ready on ${readyUrl} within ${timeoutMs} ms: ${log().trim()}`);
    }
  }
}

const pause = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms));

/** Debian's prometheus-pushgateway on a free port, keeping pushes in memory only. */
export async function startPushgateway(timeoutMs = 30_000): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'carbon-pushgateway-'));
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer('prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], url, `${url}/-/ready`, dir, timeoutMs);
  return { ...server, stop: async () => { await server.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

/**
 * Debian's prometheus on a free port with a throwaway TSDB, scraping `targets` and evaluating the alert rules of
 * deploy/prometheus/rules.yml, or `rulesText` instead when given (a variant derived from it), every 2 s or
 * `intervalS` (the scrape timeout is the interval); the configuration and the rules pass `promtool check config`
 * first.
 */
export async function startPrometheus(targets: ScrapeTargets, options: { timeoutMs?: number; rulesText?: string; intervalS?: number } = {}): Promise<RunningServer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'carbon-prometheus-'));
  if (options.rulesText === undefined) copyFileSync(rulesPath, join(dir, 'rules.yml'));
  else writeFileSync(join(dir, 'rules.yml'), options.rulesText);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(targets, 'rules.yml', options.intervalS));
  const checked = runTool('promtool', ['check', 'config', configFile]);
  if (checked.status !== 0) throw new Error(`promtool check config: ${checked.output}`);
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const server = await startServer('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], url, `${url}/-/ready`, dir, timeoutMs);
  const running = { ...server, stop: async () => { await server.stop(); rmSync(dir, { recursive: true, force: true }); } };
  try {
    await firstScrapes(url, started + timeoutMs);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}

/**
 * Waits until Prometheus has scraped every target once: ready is not scraping (service discovery hands the
 * targets over a few seconds after the start), and events before the first scrape would be missed.
 */
async function firstScrapes(url: string, deadlineMs: number): Promise<void> {
  let targets: { scrapePool: string; health: string; lastError: string }[] = [];
  while (Date.now() < deadlineMs) {
    const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5_000) });
    targets = ((await res.json()) as { data: { activeTargets: typeof targets } }).data.activeTargets;
    if (targets.length > 0 && targets.every((t) => t.health === 'up')) return;
    await pause(250);
  }
  throw new Error(`prometheus has not scraped every target: ${targets.map((t) => `${t.scrapePool} ${t.health} ${t.lastError}`).join('; ') || 'no targets'}`);
}
