import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { PredictionServiceClient, PredictRequest, type PredictResponse } from '../proto/gen/carbon/v1/prediction_service.ts';
import { freePort } from './free-port.ts';
import { eventually } from './eventually.ts';

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** `npm start`, as a newcomer runs it (in its own process group, so that teardown can kill what is left of it). */
function npmStart(env: Record<string, string>): Started {
  const child = spawn('npm', ['start'], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  // 'close', not 'exit': npm may exit on Ctrl-C before the platform it started has written its last lines to the
  // pipes they share; 'close' comes once every holder of them has closed them.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Whatever is left of a start (after a failed assertion), so that no platform outlives the test. */
function killGroup(started: Started): void {
  try {
    process.kill(-(started.child.pid as number), 'SIGKILL');
  } catch {
    // The group is gone already: nothing to clean up.
  }
}

function predict(address: string, commodity: string): Promise<PredictResponse> {
  const client = new PredictionServiceClient(address, credentials.createInsecure());
  return new Promise<PredictResponse>((resolve, reject) => {
    client.predict(PredictRequest.fromPartial({ commodity }), new Metadata(), { deadline: Date.now() + 2_000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    });
  });
}

test('npm start from a clean data folder serves a prediction over gRPC, answers metrics, stops on Ctrl-C, and a second start reuses its models', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'carbon-npm-start-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const [grpcPort, metricsPort] = [await freePort(), await freePort()];
  const env = { CARBON_DATA_DIR: dataDir, CARBON_GRPC_PORT: String(grpcPort), CARBON_METRICS_PORT: String(metricsPort), CARBON_GRPC_INTERNAL_PORT_BASE: '0' };
  const address = `127.0.0.1:${grpcPort}`;

  const first = npmStart(env);
  t.teardown(() => killGroup(first));
  let answer: PredictResponse | undefined;
  // The bound for a first served prediction is 60 s on this machine.
  await eventually(async () => {
    for (const c of ['SYN_001', 'SYN_002', 'SYN_003', 'SYN_004']) {
      answer = await predict(address, c).catch(() => undefined);
      if (answer?.prediction) return true;
    }
    return false;
  }, { what: 'a served prediction', timeoutMs: 60_000, intervalMs: 500 });
  const commodity = answer?.prediction?.commodity as string;
  const version = answer?.prediction?.modelVersion;
  t.true((version ?? 0) > 0);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  t.regex(metrics, /^carbon_ticks_processed_total\{partition="\d+"\} \d+/m);
  t.regex(metrics, /^carbon_predictions_total\{commodity="SYN_\d+"\} \d+/m);
  // The status line comes every 5 s; on a quiet machine the first prediction can come before it.
  await eventually(() => /\[carbon \d\d:\d\d:\d\d\] ticks [\d.]+\/s \| predictions/.test(first.output()), { what: 'the live status line', timeoutMs: 15_000, intervalMs: 200 });

  // Ctrl-C: the terminal signals the whole foreground group (npm, the shell, tsx and the platform).
  process.kill(-(first.child.pid as number), 'SIGINT');
  await first.exited;
  // The platform exits 1 when its own stop takes more than 4.5 s, so 0 also says it stopped in time.
  t.regex(first.output(), /"event":"platform_stopped"[^\n]*"code":0/, 'Ctrl-C stops it cleanly, with status 0');

  const second = npmStart(env);
  t.teardown(() => killGroup(second));
  await eventually(async () => (await predict(address, commodity).catch(() => undefined))?.prediction !== undefined, {
    what: 'the second start to serve', timeoutMs: 60_000, intervalMs: 500,
  });
  const again = await predict(address, commodity);
  t.is(again.prediction?.modelVersion, version, 'the model trained by the first start is in service again');
  t.notRegex(second.output(), /"event":"first_model","[^}]*"commodity":"[^"]*","version":\d+,"status":"active"/, 'nothing was put in service anew');
  process.kill(-(second.child.pid as number), 'SIGINT');
  await second.exited;
  t.regex(second.output(), /"event":"platform_stopped"[^\n]*"code":0/);
});
