/**
 * The Kafka Streams peer of `bench pipeline` (bench/peers/kstreams): its jar, built with Maven when missing or
 * older than its sources (so that a machine without network runs it from the cache after one build), and a
 * running peer process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress } from './_cluster.ts';

const PEER_DIR = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'kstreams');
const JAR = join(PEER_DIR, 'target', 'kstreams-peer.jar');

function newestSourceMs(dir: string): number {
  return Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? newestSourceMs(path) : statSync(path).mtimeMs;
  }));
}

function onPath(command: string, versionFlag: string): boolean {
  return spawnSync(command, [versionFlag], { stdio: 'ignore' }).status === 0;
}

/** The jar's path, or why there is none (java or mvn missing): the bench then runs without the peer. */
export function peerJar(): { jar: string } | { missing: string } {
  if (!onPath('java', '-version')) return { missing: 'java is not on PATH: the Kafka Streams peer needs Java 17 or later' };
  const fresh = existsSync(JAR) && statSync(JAR).mtimeMs > Math.max(newestSourceMs(join(PEER_DIR, 'src')), statSync(join(PEER_DIR, 'pom.xml')).mtimeMs);
  if (fresh) return { jar: JAR };
  if (!onPath('mvn', '-v')) return { missing: `mvn is not on PATH and ${JAR} is ${existsSync(JAR) ? 'older than its sources' : 'not built'}: the Kafka Streams peer needs Maven once` };
  progress('building the Kafka Streams peer with Maven (once; the jar is reused while its sources do not change)');
  const build = spawnSync('mvn', ['-q', '-B', 'package'], { cwd: PEER_DIR, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`mvn package of ${PEER_DIR} failed (exit ${build.status}):\n${`${build.stdout}${build.stderr}`.slice(-4_000)}`);
  return { jar: JAR };
}

export interface PeerOptions {
  readonly jar: string;
  readonly bootstrap: string;
  readonly inputTopic: string;
  readonly alertsTopic: string;
  readonly applicationId: string;
  readonly jdbcUrl: string;
  readonly threads: number;
  /** Rows a stream thread gathers before it writes them (the platform's CARBON_FLUSH_MAX_ROWS). */
  readonly batchRows: number;
  /** A thread's rows are written at least this often (the platform's CARBON_FLUSH_INTERVAL). */
  readonly flushMs: number;
  readonly logFile: string;
}

export interface RunningPeer {
  readonly pid: number;
  /** Why the peer stopped by itself, once it has. */
  failure(): string | undefined;
  stop(): Promise<void>;
}

/** Starts the peer and resolves once Kafka Streams says RUNNING (its tasks assigned, state restored). */
export async function startPeer(o: PeerOptions): Promise<RunningPeer> {
  const stateDir = mkdtempSync(join(tmpdir(), 'carbon-kstreams-'));
  const log = createWriteStream(o.logFile);
  const child = spawn('java', ['-Xmx512m', '-jar', o.jar], {
    env: {
      ...process.env,
      PEER_BOOTSTRAP: o.bootstrap, PEER_INPUT_TOPIC: o.inputTopic, PEER_ALERTS_TOPIC: o.alertsTopic,
      PEER_APPLICATION_ID: o.applicationId, PEER_JDBC_URL: o.jdbcUrl, PEER_THREADS: String(o.threads),
      PEER_STATE_DIR: stateDir, PEER_BATCH_ROWS: String(o.batchRows), PEER_FLUSH_MS: String(o.flushMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(log);
  let failure: string | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    failure ??= `exited (${code ?? signal}); see ${o.logFile}`;
    resolve();
  }));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      child.stdout.on('data', (chunk: Buffer) => {
        log.write(chunk);
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line === 'state RUNNING') resolve();
          if (line.startsWith('failed ') || line === 'state ERROR') {
            failure = `${line}; see ${o.logFile}`;
            reject(new Error(`the Kafka Streams peer ${failure}`));
          }
        }
      });
      child.once('exit', (code) => reject(new Error(`the Kafka Streams peer exited with ${code} before running; see ${o.logFile}`)));
      setTimeout(() => reject(new Error(`the Kafka Streams peer was not running after 120 s; see ${o.logFile}`)), 120_000).unref();
    });
  } catch (err) {
    await stop();
    throw err;
  }
  if (child.pid === undefined) throw new Error('the Kafka Streams peer has no pid');
  return { pid: child.pid, failure: () => failure, stop };
}
