/**
 * `npm run bench -- train [options]` (`--help` lists them with their defaults)
 *
 * Our forest trainer against scikit-learn's RandomForestRegressor on the same data: Friedman #1 with the
 * features beyond the fifth pure noise, Gaussian noise sd 1 on the target. Both: 100 trees, depth 10, all
 * features considered at every split (max_features=1.0, scikit-learn's regressor default), bootstrap rows,
 * one thread. Measures training time, MAE on fresh rows, single-row inference (median over many calls) and the
 * size of the compact model. scikit-learn runs under /usr/bin/python3 (Debian's python3-sklearn), not the
 * python3 first on the PATH.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';
import { friedman1, type RegressionData } from '../test/friedman-data.ts';
import { trainForest } from '../actors/model/forest/train-forest.ts';
import type { CompactForest } from '../actors/model/forest/compact-forest.ts';

const SKLEARN_PYTHON = '/usr/bin/python3';
const sklearnScript = fileURLToPath(new URL('./_sklearn_train.py', import.meta.url));

export const summary = 'Our RandomForest trainer against scikit-learn\'s RandomForestRegressor on the same Friedman #1 data: training time, MAE, single-row inference, model size.';

export const options = {
  rows: { default: 5_000, help: 'training rows', integer: true },
  features: { default: 20, help: 'features; those beyond the fifth are noise', integer: true, min: 5 },
  'test-rows': { default: 1_000, help: 'fresh rows for MAE and inference', integer: true },
  trees: { default: 100, help: 'trees of both forests', integer: true },
  depth: { default: 10, help: 'maximum depth of both forests', integer: true },
  seed: { default: 1, help: 'seed of the data and of our trainer', integer: true, min: 0 },
} as const satisfies OptionSpecs;

type Settings = OptionValues<typeof options>;

interface SklearnResult {
  fit_s: number;
  mae: number;
  infer_us: number;
  sklearn: string;
}

export default async function trainBench(s: Settings): Promise<BenchResult> {
  const train = friedman1(s.rows, s.features, 1, s.seed);
  const test = friedman1(s['test-rows'], s.features, 1, s.seed + 1);
  progress(`data: Friedman #1, ${s.rows} training rows and ${s['test-rows']} test rows x ${s.features} features (noise sd 1)`);

  progress(`ours: ${s.trees} trees, depth ${s.depth}, all features per split, bootstrap, one thread`);
  const started = performance.now();
  const forest = trainForest(train.x, train.y, s.features, {
    nTrees: s.trees,
    maxDepth: s.depth,
    maxFeatures: 1,
    bootstrap: true,
    seed: s.seed,
  });
  const trainS = (performance.now() - started) / 1000;
  const mae = meanAbsoluteError(forest.predictMany(test.x), test.y);
  const inferUs = medianPredictUs(forest, test);
  const modelBytes = forest.toBuffer().length;
  progress(`ours: train ${trainS.toFixed(2)} s, MAE ${mae.toFixed(4)}, ${inferUs.toFixed(2)} us/row, ${modelBytes} bytes, ${forest.nodeCount} nodes`);

  progress(`scikit-learn: RandomForestRegressor(n_estimators=${s.trees}, max_depth=${s.depth}, max_features=1.0, n_jobs=1)`);
  const sk = await runSklearn(s, train, test);
  progress(`scikit-learn ${sk.sklearn}: fit ${sk.fit_s.toFixed(2)} s, MAE ${sk.mae.toFixed(4)}, ${sk.infer_us.toFixed(0)} us/row`);

  return {
    bench: 'train',
    rows: s.rows,
    features: s.features,
    trees: s.trees,
    depth: s.depth,
    max_features: 1,
    train_s: round(trainS, 3),
    sklearn_train_s: round(sk.fit_s, 3),
    ratio: round(trainS / sk.fit_s, 3),
    mae: round(mae, 4),
    sklearn_mae: round(sk.mae, 4),
    mae_ratio: round(mae / sk.mae, 3),
    infer_us: round(inferUs, 2),
    sklearn_infer_us: round(sk.infer_us, 0),
    model_bytes: modelBytes,
  };
}

function meanAbsoluteError(predicted: Float64Array, actual: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(predicted[i]! - actual[i]!);
  return sum / actual.length;
}

/** Median time of one predictTrees call (the serving path: mean plus every tree's prediction). */
function medianPredictUs(forest: CompactForest, test: RegressionData): number {
  const out = new Float64Array(forest.nTrees);
  const rows = Array.from({ length: test.rows }, (_, r) => test.x.slice(r * test.features, (r + 1) * test.features));
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += forest.predictTrees(rows[i % rows.length]!, out);
  const timesNs: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const row = rows[i % rows.length]!;
    const t0 = process.hrtime.bigint();
    sink += forest.predictTrees(row, out);
    timesNs.push(Number(process.hrtime.bigint() - t0));
  }
  if (!Number.isFinite(sink)) throw new Error('non-finite prediction');
  timesNs.sort((a, b) => a - b);
  return timesNs[timesNs.length >> 1]! / 1000;
}

async function runSklearn(s: Settings, train: RegressionData, test: RegressionData): Promise<SklearnResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-train-'));
  try {
    const bytes = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    await writeFile(join(dir, 'x_train.f64'), bytes(train.x));
    await writeFile(join(dir, 'y_train.f64'), bytes(train.y));
    await writeFile(join(dir, 'x_test.f64'), bytes(test.x));
    await writeFile(join(dir, 'y_test.f64'), bytes(test.y));
    const argv = [sklearnScript, dir, s.rows, s['test-rows'], s.features, s.trees, s.depth, s.seed].map(String);
    const { stdout } = await promisify(execFile)(SKLEARN_PYTHON, argv, { maxBuffer: 1 << 20 });
    const last = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as SklearnResult;
  } catch (err) {
    throw new Error(
      `scikit-learn run failed (needs Debian's python3-sklearn for ${SKLEARN_PYTHON}; check with ` +
        `${SKLEARN_PYTHON} -c "import sklearn"): ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function progress(line: string): void {
  process.stderr.write(`[bench train] ${line}\n`);
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
