import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LanguageModel } from '../lm/language-model.ts';
import { createRng } from '../util/random.ts';
import type { Figure } from '../util/bench-figure.ts';
import { responseLength } from './structural-attributes.ts';
import { collectRepresentations } from './collect.ts';
import { encodeLabels } from './label-encoding.ts';
import { matrix } from './matrix.ts';
import { evaluateProbe } from './probe-evaluation.ts';

export interface ProbeBenchOptions {
  prompts?: readonly string[];
  maxNewTokens?: number;
  batchSize?: number;
}

const DEFAULT_PROMPTS = [
  'Once upon a time',
  'Tom had a big red',
  'One day, Lily went to the',
  'The cat was',
  'Sam and Sue wanted to play',
  'It was a sunny day',
  'Mom said',
  'The little bird',
];

/**
 * Speed of `probe collect` (items/s, all layers, greedy) against plain sampling of the same
 * responses without states, and the time of a linear and an MLP probe fit.
 */
export async function benchProbe(model: LanguageModel, options: ProbeBenchOptions = {}): Promise<Figure[]> {
  const prompts = options.prompts ?? [...DEFAULT_PROMPTS, ...DEFAULT_PROMPTS.map((p) => `${p} and`)];
  const maxNewTokens = options.maxNewTokens ?? 64;
  const items = prompts.map((prompt, i) => ({ id: String(i), prompt, fields: {} }));
  const dir = mkdtempSync(join(tmpdir(), 'probe-bench-'));
  const figures: Figure[] = [];
  try {
    const stopTokens = model.eosIds;
    const collected = await collectRepresentations({
      model,
      items,
      attributes: [responseLength],
      out: dir,
      maxNewTokens,
      batchSize: options.batchSize ?? 8,
      stopTokens,
    });
    const started = performance.now();
    for (const prompt of prompts) await model.sample({ prompt, maxNewTokens, temperature: 0 });
    const sampleRate = prompts.length / ((performance.now() - started) / 1000);
    figures.push({
      name: `probe collect, ${prompts.length} prompts × ≤${maxNewTokens} tokens, all ${collected.layers.length} layers`,
      value: collected.itemsPerSecond,
      unit: 'items/s',
      reference: {
        name: 'sample() one prompt at a time, no states',
        value: Number(sampleRate.toFixed(2)),
        ratio: collected.itemsPerSecond / sampleRate,
      },
    });
    figures.push({
      name: 'probe collect: generated tokens per second',
      value: collected.generatedTokens / collected.seconds,
      unit: 'tokens/s',
    });
    figures.push({
      name: 'probe collect: prefills beyond one per prompt',
      value: collected.extraPrefills,
      unit: 'prefills',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rng = createRng(0);
  const n = 600,
    d = 256;
  const x = matrix(n, d);
  for (let i = 0; i < x.data.length; i++) x.data[i] = rng.normal();
  const labels = encodeLabels(
    'y',
    Array.from({ length: n }, (_, i) => x.data[i * d] + x.data[i * d + 1] ** 2),
  );
  for (const probe of ['linear', 'mlp'] as const) {
    const t0 = performance.now();
    evaluateProbe(x, labels, { probe, seeds: 3 });
    figures.push({
      name: `${probe} probe fit with its validation grid, ${n} items × ${d} dims, 3 seeds`,
      value: (performance.now() - t0) / 1000,
      unit: 's',
    });
  }
  return figures;
}
