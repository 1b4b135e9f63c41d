/**
 * The README's two paths to a forecast, run as a newcomer would type them: the command blocks marked
 * `<!-- readme-test: embedded -->` and `<!-- readme-test: cluster -->` are read from README.md (so the page and
 * this test cannot drift apart) and run in a shell, against the real services for the cluster. Only the
 * environment is the test's own (a fresh database, topic namespace and ports), so that it runs beside the others.
 * A command marked "a terminal of its own" runs in the background for the rest of the block; a question put to it
 * after that (`carbon predict`, `carbon status`) is asked again until it is answered, as a person asks again while
 * the platform starts. Other commands run once: an ingest repeated would be a second ingest.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { freePort } from './free-port.ts';
import { freshDatabase, freshTopics, KAFKA_BROKERS, REDIS_URL, uniqueName } from './services.ts';

interface Step {
  readonly command: string;
  readonly background: boolean;
}

/** The commands of the README's block marked `name`, in order. */
export function readmeBlock(readme: string, name: string): Step[] {
  const marker = readme.indexOf(`<!-- readme-test: ${name} -->`);
  if (marker < 0) throw new Error(`README.md has no block marked readme-test: ${name}`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (block === null) throw new Error(`no sh block after the readme-test: ${name} marker`);
  return block[1]!
    .split('\n')
    .map((line) => {
      const comment = line.indexOf(' #');
      return { command: (comment < 0 ? line : line.slice(0, comment)).trim(), background: /a terminal of its own/.test(line) };
    })
    .filter((s) => s.command !== '');
}

/** `export A=1 B=2` as assignments. */
function exported(command: string): Record<string, string> | undefined {
  if (!command.startsWith('export ')) return undefined;
  return Object.fromEntries(command.slice(7).trim().split(/\s+/).map((pair) => pair.split('=', 2) as [string, string]));
}

const asksThePlatform = (command: string): boolean => /^npx carbon (predict|status)\b/.test(command);

interface Run {
  readonly outputs: string[];
}

async function runBlock(t: ExecutionContext, steps: readonly Step[], env: Record<string, string>, override: Record<string, string>): Promise<Run> {
  let shellEnv: Record<string, string> = { ...(process.env as Record<string, string>), ...override };
  const outputs: string[] = [];
  let backgroundStarted = false;
  for (const step of steps) {
    const assignments = exported(step.command);
    if (assignments !== undefined) {
      // The README's values, then the test's own for what must not collide with other tests.
      shellEnv = { ...shellEnv, ...assignments, ...env, ...override };
      continue;
    }
    if (step.background) {
      const child = spawn('bash', ['-c', `exec ${step.command}`], { env: shellEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const log: string[] = [];
      child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
      child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
      t.teardown(() => stop(child));
      t.teardown(() => {
        if (!t.passed) t.log(`${step.command}, last output:\n${log.join('').split('\n').slice(-40).join('\n')}`);
      });
      backgroundStarted = true;
      continue;
    }
    const deadline = Date.now() + 600_000;
    for (;;) {
      const r = spawnSync('bash', ['-c', step.command], { env: shellEnv, encoding: 'utf8', timeout: 600_000 });
      if (r.status === 0) {
        outputs.push(r.stdout);
        break;
      }
      if (!backgroundStarted || !asksThePlatform(step.command) || Date.now() > deadline) throw new Error(`\`${step.command}\` failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
  return { outputs };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGINT');
  const kill = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 20_000);
  await exited;
  clearTimeout(kill);
}

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

test('the README blocks are found and name a background platform and a forecast of WTI', (t) => {
  for (const name of ['embedded', 'cluster']) {
    const steps = readmeBlock(readme, name);
    t.is(steps.filter((s) => s.background).length, 1, `${name}: one platform in a terminal of its own`);
    t.true(steps.some((s) => s.command === 'npx carbon predict WTI'), `${name}: ends with a forecast of WTI`);
  }
});

test.serial('the README embedded path: npm start, then a forecast of WTI', async (t) => {
  t.timeout(900_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'carbon-readme-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const override = {
    CARBON_DATA_DIR: join(dataDir, '.carbon'),
    CARBON_GRPC_PORT: String(await freePort()),
    CARBON_GRPC_INTERNAL_PORT_BASE: '0',
    CARBON_METRICS_PORT: String(await freePort()),
  };
  const run = await runBlock(t, readmeBlock(readme, 'embedded'), {}, override);
  t.regex(run.outputs[0]!, /^WTI at 2024-12-31, price [\d.]+: 1 tick\(s\) ahead, champion (no_change|drift|forest|pooled_forest) v\d+/);
  t.regex(run.outputs[0]!, /price quantiles {2}5% [\d.]+ {2}10% [\d.]+/);
  const json = JSON.parse(run.outputs[1]!) as { prediction: { horizonTicks: number; quantileReturns: number[] } };
  t.is(json.prediction.horizonTicks, 20);
  t.is(json.prediction.quantileReturns.length, 7);
});

test.serial('the README cluster path: services, carbon start, ingest, train, then a forecast of WTI', async (t) => {
  t.timeout(1_200_000);
  const { prefix } = await freshTopics(t, 4);
  const override = {
    DATABASE_URL: await freshDatabase(t),
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    REDIS_URL,
    CARBON_TOPIC_PREFIX: prefix,
    CARBON_TOPIC_PARTITIONS: '4',
    CARBON_REDIS_PREFIX: `${prefix}:`,
    CARBON_CONSUMER_GROUP: uniqueName('readme_group'),
    CARBON_GRPC_PORT: String(await freePort()),
    CARBON_GRPC_INTERNAL_PORT_BASE: '0',
    CARBON_METRICS_PORT: String(await freePort()),
    CARBON_WORKERS: '2',
  };
  const run = await runBlock(t, readmeBlock(readme, 'cluster'), override, override);
  const predicted = run.outputs.find((o) => o.startsWith('WTI at '));
  t.truthy(predicted, 'a forecast of WTI');
  t.regex(predicted!, /^WTI at 2024-12-31, price [\d.]+: 1 tick\(s\) ahead, champion (no_change|drift|forest|pooled_forest) v\d+/);
  t.regex(run.outputs.at(-1)!, /WTI/, 'carbon status names the champion of WTI');
});
