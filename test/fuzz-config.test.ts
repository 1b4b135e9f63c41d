/**
 * The configuration fuzzed (issue 17): arbitrary values in every variable that platform/config.ts and
 * gateway/gateway-config.ts read, and arbitrary tenants files, seeded (fuzz-options.ts says how many). Properties:
 * a setting is either taken, and then every duration, size, port and rate it gives is a usable number, or refused
 * with a ConfigError whose message names a variable that was set (never a TypeError, a RangeError or a stack);
 * a tenants file is either taken, and then its tenants are well-formed and distinct, or refused naming
 * CARBON_TOKENS_FILE (and the field or JSON error). Most cases run in process; a few run the real `carbon start`, which must exit
 * 2 with the message naming the variable before it contacts Kafka, Postgres or Redis.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { COMMODITY_ID_PATTERN } from '../actors/ingest/commodity-id.ts';
import { configReaders, readerKindsOf, variablesReadBy } from '../deploy/tools/env-variables.ts';
import { loadGatewayConfig } from '../gateway/gateway-config.ts';
import { parseTenants, TENANT_NAME_PATTERN } from '../gateway/tenants.ts';
import { ConfigError, loadConfig, MAX_TIMER_MS } from '../platform/config.ts';
import { runCarbon } from './carbon-cli.ts';
import { fuzzParameters, fuzzRuns, fuzzTimeoutMs } from './fuzz-options.ts';

const root = join(import.meta.dirname, '..');
/** Every variable the config readers read, with the EnvReader method that reads it (from their source). */
function settings(): ReadonlyMap<string, string> {
  const kinds = new Map<string, string>();
  for (const file of configReaders) {
    const source = readFileSync(join(root, file), 'utf8');
    for (const [name, kind] of readerKindsOf(source)) kinds.set(name, kind);
    for (const name of variablesReadBy(source)) if (!kinds.has(name)) kinds.set(name, 'string');
  }
  // Set by the primary for each worker it forks, never by an operator.
  kinds.delete('CARBON_WORKER_SLOT');
  return kinds;
}
const kinds = settings();

/** Near-misses and edges that every kind of value meets: what an operator's typo or a template's bug gives. */
const anyValue = fc.oneof(
  fc.constantFrom('', ' ', '0', '-0', '-1', '1', '1.5', '1e3', '1e309', '-1e309', 'NaN', 'Infinity', '0x10', '9'.repeat(30), '2147483648', '4294967296', 'true', 'yes', 'null', 'undefined', '[]', '{}', '\u0000', '٣', '１', 'ｔｒｕｅ'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const digits = fc.oneof(fc.nat({ max: 100_000 }).map(String), fc.stringMatching(/^\d{1,25}$/), fc.double({ noNaN: false }).map(String));
const valueOfKind: Record<string, fc.Arbitrary<string>> = {
  string: fc.oneof(fc.constantFrom('127.0.0.1', '0.0.0.0', '::', 'localhost', 'example.org', 'a b', 'carbon-1', 'x'.repeat(300)), fc.stringMatching(/^[\w.:-]{0,30}$/)),
  optionalString: fc.constantFrom('/no/such/file', '', '/etc/hostname', join(root, 'package.json')),
  int: digits,
  number: digits,
  durationMs: fc.tuple(digits, fc.constantFrom('', 'ms', 's', 'm', 'h', 'd', ' s', 'S')).map(([n, u]) => `${n}${u}`),
  sizeBytes: fc.tuple(digits, fc.constantFrom('', 'b', 'kb', 'mb', 'gb', 'KB', 'tb')).map(([n, u]) => `${n}${u}`),
  bool: fc.constantFrom('true', 'false', '1', '0', 'on', 'off', 'TRUE', 'Yes', 'maybe', 'tru'),
  list: fc.array(fc.oneof(fc.constantFrom('127.0.0.1:9092', 'host:0', 'host:65535', 'host:65536', 'host:99999', ':9092', 'host:', '1', '5', '20', '0', '365', '366', ' '), fc.string({ maxLength: 8 })), { maxLength: 4 }).map((a) => a.join(',')),
  url: fc.oneof(fc.constantFrom('postgres://postgres@127.0.0.1:5432/test', 'postgres:', 'redis://127.0.0.1:6379', 'rediss://h', 'http://127.0.0.1:8080', 'https://x', 'mysql://x', 'not a url', 'http://[::1', 'redis://h:99999'), fc.webUrl()),
};

/** An environment: a handful of the variables, each given a value of its kind or anything. */
const environment = fc
  .uniqueArray(fc.constantFrom(...kinds.keys()), { minLength: 1, maxLength: 4 })
  .chain((names) => fc.tuple(...names.map((name) => fc.oneof({ weight: 3, arbitrary: valueOfKind[kinds.get(name) ?? 'string'] ?? anyValue }, { weight: 1, arbitrary: anyValue }).map((v) => [name, v] as const))))
  .map((pairs) => Object.fromEntries(pairs) as Record<string, string>);

/** Fields whose duration arms a timer: past MAX_TIMER_MS, Node would fire it after 1 ms. */
const timerFields = new Set(['connectTimeoutMs', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'transactionTimeoutMs', 'flushIntervalMs', 'handOffTimeoutMs', 'shutdownTimeoutMs', 'refreshMs', 'tenantsRefreshMs', 'tlsReloadMs', 'defaultDeadlineMs', 'ownerTimeoutMs', 'ownershipLeaseMs', 'ownershipRefreshMs', 'streamPollMs', 'drainGraceMs', 'keepaliveMs', 'keepaliveTimeoutMs', 'maxConnectionAgeMs']);

/** What is wrong with a configuration that was taken, if anything: every number it holds must be usable. */
function unusable(value: unknown, path = 'config'): string | undefined {
  if (typeof value === 'number') {
    const field = path.slice(path.lastIndexOf('.') + 1);
    if (!Number.isFinite(value)) return `${path} is ${value}`;
    if (/Ms$|Bytes$|[pP]ort$|Base$|workers$|Size$|Rows$|Tries$|Partitions$/.test(field) && !Number.isSafeInteger(value)) return `${path} = ${value} is not a safe integer`;
    if (/Ms$|Bytes$|[pP]ort$|Base$/.test(field) && value < 0) return `${path} = ${value} is negative`;
    if (/[pP]ort$|Base$/.test(field) && value > 65_535) return `${path} = ${value} is not a port`;
    if (timerFields.has(field) && value > MAX_TIMER_MS) return `${path} = ${value} ms is longer than a timer can wait`;
    return undefined;
  }
  if (typeof value === 'string' && /[pP]ort$/.test(path)) return undefined;
  if (Array.isArray(value) || (value !== null && typeof value === 'object' && !Buffer.isBuffer(value))) {
    for (const [k, v] of Object.entries(value)) {
      const bad = unusable(v, `${path}.${k}`);
      if (bad) return bad;
    }
  }
  return undefined;
}

function brokerProblem(brokers: readonly string[] | undefined): string | undefined {
  for (const b of brokers ?? []) {
    const port = Number(b.slice(b.lastIndexOf(':') + 1));
    if (!(port >= 1 && port <= 65_535)) return `broker ${b} has no port 1-65535`;
  }
  return undefined;
}

/** Loads both readers as `carbon start` does before forking; undefined when taken, else the error. */
function verdict(env: Record<string, string>): unknown {
  try {
    const config = loadConfig(env);
    const gateway = loadGatewayConfig(config, env, 0);
    const problem = unusable(config) ?? unusable(gateway, 'gateway') ?? brokerProblem(config.kafkaBrokers);
    if (problem) return new Error(`taken although unusable: ${problem}`);
    return undefined;
  } catch (err) {
    return err;
  }
}

/** Why an error is not a proper refusal of `env`, or undefined when it is one. */
function improperRefusal(err: unknown, env: Record<string, string>): string | undefined {
  if (!(err instanceof ConfigError)) return `not a ConfigError: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  const named = Object.keys(env).filter((name) => err.message.includes(name));
  if (named.length === 0) return `the message names none of ${Object.keys(env).join(', ')}: ${err.message}`;
  if (/\n\s+at /.test(err.message)) return `the message holds a stack: ${err.message}`;
  return undefined;
}

test('every configuration variable, fuzzed in process: taken and usable, or refused naming a variable set', (t) => {
  const runs = fuzzRuns();
  t.timeout(fuzzTimeoutMs(runs, 5, 30_000));
  let refused = 0;
  fc.assert(fc.property(environment, (env) => {
    const err = verdict(env);
    if (err === undefined) return true;
    refused++;
    const why = improperRefusal(err, env);
    if (why) throw new Error(why);
    return true;
  }), fuzzParameters(runs));
  t.log(`${runs} environments over ${kinds.size} variables, ${refused} refused`);
  t.true(refused > 0 && refused < runs, 'the cases hold both good and bad settings');
});

const sha = fc.stringMatching(/^[0-9a-f]{64}$/);
/** Mostly what a field should hold, sometimes a near-miss, sometimes any JSON. */
function field<T>(good: fc.Arbitrary<T>, near: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 8, arbitrary: good }, { weight: 1, arbitrary: near }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
}
/** Tenants as a file might hold them: mostly well-formed, with fields of the wrong type, missing, repeated or extra. */
const tenant = fc.record({
  name: field(fc.constantFrom('acme', 'beta', 'gamma', 'delta'), fc.oneof(fc.constantFrom('', 'a b', 'x'.repeat(65)), fc.string({ maxLength: 70 }))),
  tokenSha256: field(fc.array(sha, { minLength: 1, maxLength: 2 }), fc.array(fc.constantFrom('A'.repeat(64), 'a'.repeat(63), '0'.repeat(64)), { maxLength: 2 })),
  commodities: field(fc.oneof(fc.constant('*'), fc.array(fc.constantFrom('WTI', 'BRENT', 'GOLD'), { minLength: 1, maxLength: 3 })), fc.array(fc.constantFrom('wti', '', '*', 'W-TI'), { maxLength: 2 })),
  ratePerSecond: field(fc.double({ min: 0.001, max: 1e6, noNaN: true }), fc.constantFrom(0, -1, 1e308, -0)),
  burst: field(fc.double({ min: 1, max: 1e6, noNaN: true }), fc.constantFrom(0, 0.5, -1, 1e308)),
  extra: fc.jsonValue({ maxDepth: 1 }),
}, { requiredKeys: [] }).map((t) => {
  // Each field missing now and then; an unknown one rarely (a strict schema refuses it).
  const { extra, ...known } = t;
  return Object.keys(known).length === 5 && typeof extra === 'number' ? { ...known, extra } : known;
});
/** A whole file: a tenants document, a mutation of one, or any text. */
const tenantsFile = fc.oneof(
  { weight: 6, arbitrary: fc.array(tenant, { minLength: 1, maxLength: 4 }).map((tenants) => JSON.stringify({ tenants })) },
  { weight: 1, arbitrary: fc.array(tenant, { maxLength: 2 }).map((tenants) => JSON.stringify({ tenants }).replace(/1e\+?(\d+)/g, '1e999')) },
  { weight: 1, arbitrary: fc.tuple(fc.array(tenant, { minLength: 1, maxLength: 2 }), fc.nat()).map(([tenants, cut]) => { const s = JSON.stringify({ tenants }); return s.slice(0, cut % s.length); }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? '') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
);

test('tenants files, fuzzed in process: taken with well-formed, distinct tenants, or refused naming the file variable', (t) => {
  const runs = fuzzRuns();
  t.timeout(fuzzTimeoutMs(runs, 5, 30_000));
  let taken = 0;
  fc.assert(fc.property(tenantsFile, (text) => {
    let records;
    try {
      records = parseTenants(text);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      if (err.variable !== 'CARBON_TOKENS_FILE') throw new Error(`names ${err.variable}`);
      return true;
    }
    taken++;
    const names = new Set<string>();
    const hashes = new Set<string>();
    for (const r of records) {
      if (!TENANT_NAME_PATTERN.test(r.name)) throw new Error(`tenant name ${JSON.stringify(r.name)} taken`);
      if (names.has(r.name)) throw new Error(`tenant ${r.name} taken twice`);
      names.add(r.name);
      if (!(Number.isFinite(r.ratePerSecond) && r.ratePerSecond > 0)) throw new Error(`${r.name}: ratePerSecond ${r.ratePerSecond} taken`);
      if (!(Number.isFinite(r.burst) && r.burst >= 1)) throw new Error(`${r.name}: burst ${r.burst} taken`);
      if (r.tokens.length === 0) throw new Error(`${r.name} has no token`);
      for (const token of r.tokens) {
        if (!/^[0-9a-f]{64}$/.test(token.sha256) || hashes.has(token.sha256)) throw new Error(`${r.name}: token hash ${token.sha256} taken`);
        hashes.add(token.sha256);
      }
      for (const c of r.commodities ?? []) if (!COMMODITY_ID_PATTERN.test(c)) throw new Error(`${r.name}: commodity ${JSON.stringify(c)} taken`);
    }
    return true;
  }), fuzzParameters(runs));
  t.log(`${runs} tenants files, ${taken} taken`);
  t.true(taken > 0 && taken < runs, 'the cases hold both good and bad files');
});

/** Runs of the real `carbon start`: each one a process, so a few. */
const START_RUNS = Math.max(8, Math.round(fuzzRuns() / 1_000));

test('the real carbon start refuses a bad setting or tenants file with exit status 2 naming it, before it contacts a service', async (t) => {
  t.timeout(fuzzTimeoutMs(START_RUNS, 15_000, 30_000));
  const folder = mkdtempSync(join(tmpdir(), 'carbon-fuzz-config-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  // Services that cannot answer: were they contacted first, the start would exit 69 (unreachable), not 2.
  const services = { KAFKA_BROKERS: '127.0.0.1:1', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test', REDIS_URL: 'redis://127.0.0.1:1' };
  // Only refused cases: a taken one would start a cluster.
  const badEnvironment = environment.filter((env) => verdict({ ...services, ...env }) instanceof ConfigError);
  const badTenantsFile = tenantsFile.filter((text) => {
    try {
      parseTenants(text);
      return false;
    } catch {
      return true;
    }
  });
  let n = 0;
  await fc.assert(fc.asyncProperty(fc.oneof(badEnvironment.map((env) => ({ env })), badTenantsFile.map((file) => ({ file }))), async (c) => {
    let env: Record<string, string>;
    let expected: string;
    if ('file' in c) {
      const path = join(folder, `tenants-${n++}.json`);
      writeFileSync(path, c.file);
      env = { ...services, CARBON_TOKENS_FILE: path };
      expected = 'CARBON_TOKENS_FILE';
    } else {
      env = { ...services, ...c.env };
      expected = (verdict(env) as ConfigError).message;
    }
    const run = await runCarbon(['start'], { CARBON_WORKERS: '1', ...env });
    if (run.code !== 2) throw new Error(`exit ${run.code}, stderr: ${run.stderr.slice(0, 500)}`);
    const line = run.stderr.split('\n').find((l) => l.startsWith('carbon: configuration error: '));
    if (line === undefined) throw new Error(`no configuration error line in: ${run.stderr.slice(0, 500)}`);
    if (!line.includes(expected.slice(0, 60).split('\n')[0] as string)) throw new Error(`expected ${expected.slice(0, 60)} in: ${line}`);
    if (/\n\s+at /.test(run.stderr)) throw new Error(`a stack on stderr: ${run.stderr.slice(0, 500)}`);
    return true;
  }), fuzzParameters(START_RUNS));
  t.log(`${START_RUNS} runs of carbon start`);
  t.pass();
});
