/**
 * Limited-memory BFGS for smooth unconstrained minimisation, with a backtracking (Armijo)
 * line search. Deterministic: no randomness, fixed iteration order.
 */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  maxIterations?: number;
  /** stop when the gradient's max-norm falls below this */
  gradientTolerance?: number;
  /** stop when the relative decrease of f falls below this */
  functionTolerance?: number;
  history?: number;
}

export function minimizeLbfgs(
  objective: Objective,
  x0: Float64Array,
  options: LbfgsOptions = {},
): { x: Float64Array; value: number; iterations: number } {
  const { maxIterations = 200, gradientTolerance = 1e-6, functionTolerance = 1e-10, history = 10 } = options;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = objective(x, g);
  const s: Float64Array[] = [],
    y: Float64Array[] = [],
    rho: number[] = [];
  const dir = new Float64Array(n),
    alpha = new Float64Array(history);
  let iteration = 0;
  for (; iteration < maxIterations; iteration++) {
    if (maxAbs(g) < gradientTolerance) break;
    // two-loop recursion: dir = -H g
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let k = s.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(s[k], dir);
      axpy(-alpha[k], y[k], dir);
    }
    const gamma = s.length
      ? dot(s[s.length - 1], y[y.length - 1]) / dot(y[y.length - 1], y[y.length - 1])
      : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < n; i++) dir[i] *= gamma;
    for (let k = 0; k < s.length; k++) axpy(alpha[k] - rho[k] * dot(y[k], dir), s[k], dir);

    let slope = dot(g, dir);
    if (slope >= 0) {
      // not a descent direction (numerical trouble): restart from steepest descent
      s.length = y.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i] / Math.max(1, Math.sqrt(dot(g, g)));
      slope = dot(g, dir);
    }
    let step = 1;
    const xNew = new Float64Array(n),
      gNew = new Float64Array(n);
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      fNew = objective(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) break;
    const sk = new Float64Array(n),
      yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = xNew[i] - x[i];
      yk[i] = gNew[i] - g[i];
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.length === history) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
    }
    const decrease = f - fNew;
    x = Float64Array.from(xNew);
    g = Float64Array.from(gNew);
    const previous = f;
    f = fNew;
    if (decrease <= functionTolerance * Math.max(1, Math.abs(previous))) {
      iteration++;
      break;
    }
  }
  return { x, value: f, iterations: iteration };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
