/**
 * Platt scaling: a probability calibrated by a logistic regression of the outcome on the logit of a raw score,
 * P(up) = 1 / (1 + exp(-(a + b * logit(raw)))), fitted on rows the raw scores were not fitted on. A small ridge
 * on b keeps a constant or uninformative score at b = 0, where the fit is the base rate of the calibration rows.
 */

export interface PlattScaling {
  readonly intercept: number;
  readonly slope: number;
}

const RIDGE = 1;
const clampLogit = (p: number): number => {
  const q = Math.min(0.995, Math.max(0.005, p));
  return Math.log(q / (1 - q));
};

export function applyPlatt(s: PlattScaling, raw: number): number {
  return 1 / (1 + Math.exp(-(s.intercept + s.slope * clampLogit(raw))));
}

/** Newton's method on the penalized log likelihood; `up[i]` is whether row i rose. */
export function fitPlatt(raw: ArrayLike<number>, up: ArrayLike<boolean>): PlattScaling {
  const n = raw.length;
  if (n === 0 || up.length !== n) throw new RangeError(`Platt scaling needs as many outcomes as scores (>= 1), got ${n} and ${up.length}`);
  const z = Float64Array.from(raw, clampLogit);
  let a = 0;
  let b = 0;
  for (let iteration = 0; iteration < 50; iteration++) {
    // Gradient and Hessian of -loglik + RIDGE / 2 * b^2.
    let ga = 0;
    let gb = RIDGE * b;
    let haa = 1e-9;
    let hab = 0;
    let hbb = RIDGE;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(a + b * z[i]!)));
      const r = p - (up[i] ? 1 : 0);
      const w = p * (1 - p);
      ga += r;
      gb += r * z[i]!;
      haa += w;
      hab += w * z[i]!;
      hbb += w * z[i]! * z[i]!;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { intercept: a, slope: b };
}
