/**
 * Pareto fronts of a MODPO family: each member is a point of objective values (all to be
 * maximized); a member is on the front when no other member is at least as good on every
 * objective and strictly better on one.
 */

export function paretoFront(points: readonly (readonly number[])[]): boolean[] {
  const dominates = (a: readonly number[], b: readonly number[]) =>
    a.every((v, j) => v >= b[j]) && a.some((v, j) => v > b[j]);
  return points.map((p, i) => !points.some((q, j) => j !== i && dominates(q, p)));
}

/**
 * How consistently `values` move with `weights`: over all pairs of members with different
 * weights, (concordant − discordant) / pairs, i.e. Kendall's τ-a. 1 = the objective rises
 * strictly with its weight, −1 = it falls.
 */
export function weightOrder(weights: readonly number[], values: readonly number[]): number {
  let score = 0,
    pairs = 0;
  for (let i = 0; i < weights.length; i++) {
    for (let j = i + 1; j < weights.length; j++) {
      if (weights[i] === weights[j]) continue;
      pairs++;
      score += Math.sign(weights[j] - weights[i]) * Math.sign(values[j] - values[i]);
    }
  }
  return pairs ? score / pairs : 0;
}
