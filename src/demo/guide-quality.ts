/**
 * How well a guide ranks what the large model writes: for each prompt, N samples of the large
 * model are scored by the guide and by the gold reward, and the Spearman correlation of the two
 * rankings is taken (average ranks for ties; a prompt whose samples all get the same gold reward
 * is left out). Best-of-N and weak-to-strong search can only be as good as this ranking.
 */
import type { LanguageModel } from '../lm/language-model.ts';
import type { Scorer, ScoreInput } from '../decode/scorer.ts';

/** The main job's guides, by what its tables call them. */
export const GUIDES = { 'small-pair log-ratio (BoN, W2S)': 'log-ratio', 'value model (IVG)': 'value' } as const;

/** Ranks 1…n, ties sharing their average rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's ρ (Pearson correlation of the ranks); NaN when either side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

export interface GuideQualityOptions {
  samples: number;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** Mean within-prompt Spearman ρ of each guide against the gold reward on the large model's samples. */
export async function guideQuality(
  large: LanguageModel,
  guides: Readonly<Record<string, Scorer>>,
  gold: Scorer,
  prompts: readonly string[],
  o: GuideQualityOptions,
): Promise<Record<string, number>> {
  const correlations: Record<string, number[]> = Object.fromEntries(Object.keys(guides).map((g) => [g, []]));
  for (const [i, prompt] of prompts.entries()) {
    const out = await large.sample({
      prompt,
      n: o.samples,
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature,
      topK: o.topK,
      seed: o.seed + i,
    });
    const items: ScoreInput[] = out.map((s) => ({ prompt, response: s.text, finishReason: s.finishReason }));
    const truth = await gold.score(items);
    for (const [name, guide] of Object.entries(guides)) {
      const rho = spearman(await guide.score(items), truth);
      if (Number.isFinite(rho)) correlations[name].push(rho);
    }
  }
  return Object.fromEntries(
    Object.entries(correlations).map(([g, xs]) => [g, xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)]),
  );
}
