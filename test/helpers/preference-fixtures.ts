/**
 * Fixtures for the MODPO and iLR-DPO checks: story-opening prompts from TinyStories, a
 * stories260K SFT that learns to end its paragraph with EOS (so response length can move),
 * and the library pieces wired as the CLI wires them.
 */
import { join } from 'node:path';

import { preferenceTrainer } from '../../src/train/preference-training.ts';
import { TRAINING_OPTIONS, trainingSettings } from '../../src/cli/train-options.ts';
import { resolveOptions } from '../../src/util/option-spec.ts';
import { loadModel } from '../../src/lm/load.ts';
import { RunDir } from '../../src/run/run-dir.ts';
import { selectPairs } from '../../src/train/ilr-dpo-loop.ts';
import { samplePrompt, type PromptSamples } from '../../src/train/policy-samples.ts';
import { openReward } from '../../src/train/reward-spec.ts';
import { writeTrlPreferences } from '../../src/train/trl-export.ts';
import { ModelPool } from '../../src/run/model-pool.ts';
import { readLocalCheckpoint } from '../../src/lm/load.ts';
import { saveCheckpoint } from '../../src/lm/save-checkpoint.ts';
import { createRng } from '../../src/util/random.ts';
import { STORIES, STORIES_TOKENIZER } from './model-wrappers.ts';
import { tinyStories, writeJsonl } from './stories-data.ts';
import { run as cli } from '../../src/cli/main.ts';

const trainCli = (argv: readonly string[]) => cli(['train', ...argv]);

const sentences = (paragraph: string) => paragraph.split(/(?<=[.!?])\s+/);

/** First sentences of TinyStories paragraphs (no quotes, 20–90 characters), from `offset`. */
export function storyPrompts(count: number, offset = 0): string[] {
  const firsts = tinyStories()
    .map((p) => sentences(p)[0])
    .filter((s) => s.length > 20 && s.length < 90 && !s.includes('"'));
  return firsts.slice(offset, offset + count);
}

/**
 * stories260K fine-tuned to continue a paragraph's first sentence with the rest of it and EOS:
 * stories260K itself never stops (llama2.c stories have no EOS), so its lengths cannot change.
 */
export async function trainEosModel(dir: string, options: { steps?: number; seed?: number } = {}): Promise<string> {
  const rows = tinyStories()
    .map(sentences)
    .filter((s) => s.length >= 2)
    .map((s) => ({ prompt: s[0], completion: ' ' + s.slice(1).join(' ') }));
  const data = writeJsonl(join(dir, 'sft.jsonl'), rows);
  const out = join(dir, 'sft');
  const code = await trainCli([
    'sft',
    '--model',
    STORIES,
    '--tokenizer',
    STORIES_TOKENIZER,
    '--data',
    data,
    '--out',
    out,
    '--lr',
    '1e-3',
    '--batch-size',
    '16',
    '--max-length',
    '256',
    ...(options.steps ? ['--steps', String(options.steps)] : ['--epochs', '1']),
    '--seed',
    String(options.seed ?? 42),
    '--quiet',
  ]);
  if (code !== 0) throw new Error(`train sft exited ${code}`);
  return join(out, 'model');
}

/** What `train ilr-dpo` / `sweep modpo` pass the loops: a model pool, a DPO-family trainer, a run folder. */
export function loopParts(out: string, trainFlags: Record<string, string>, startModel = STORIES) {
  const pool = new ModelPool({}, (ref) =>
    loadModel(ref, { tokenizer: ref === STORIES ? STORIES_TOKENIZER : undefined }),
  );
  // the flags as `train dpo` reads them (kebab-case names, text values)
  const camel = (flag: string) => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const values = resolveOptions(
    TRAINING_OPTIONS,
    Object.fromEntries(Object.entries(trainFlags).map(([k, v]) => [camel(k), v])),
  );
  const trainer = preferenceTrainer('test', trainingSettings(values), 'sigmoid', (p) =>
    p === startModel && p === STORIES ? STORIES_TOKENIZER : undefined,
  );
  return { pool, trainer, runDir: (resume: boolean) => RunDir.create(out, { resume }) };
}

/** stories260K with every weight nudged: a "DPO-tuned" model with the same tokenizer, saved as an HF directory. */
export function writePerturbedStories(dir: string, seed = 3): string {
  const ckpt = readLocalCheckpoint(STORIES, STORIES_TOKENIZER);
  const rng = createRng(seed);
  const weights = new Map(
    [...ckpt.weights].map(([name, t]) => [
      name,
      { shape: t.shape, data: Float32Array.from(t.data, (v) => v * (1 + 0.1 * rng.normal())) },
    ]),
  );
  const out = join(dir, `perturbed-${seed}`);
  saveCheckpoint(out, ckpt.config, weights, ckpt.tokenizer);
  return out;
}

/**
 * Two preference sets from the same samples of `model` (N per prompt): sentiment (the happiest
 * vs the saddest by VADER) and brevity (the shortest vs the longest), as TRL JSONL files.
 */
export async function sentimentAndBrevityPairs(
  modelPath: string,
  prompts: readonly string[],
  dir: string,
  options: { samples: number; maxNewTokens: number; seed: number },
) {
  const model = await loadModel(modelPath);
  try {
    const sentiment = await openReward('sentiment', {
      load: async () => model,
      policyTokenizer: model.tokenizer,
      beta: 0.1,
    });
    const samples: PromptSamples[] = [];
    for (let i = 0; i < prompts.length; i++)
      samples.push(
        await samplePrompt(model, i, prompts[i], [sentiment], {
          samplesPerPrompt: options.samples,
          maxNewTokens: options.maxNewTokens,
          seed: options.seed,
        }),
      );
    const bySentiment = selectPairs(
      samples,
      samples.map((p) => ({ rewards: p.samples.map((s) => s.scores[0]) })),
      0,
    );
    const byBrevity = selectPairs(
      samples,
      samples.map((p) => ({ rewards: p.samples.map((s) => -s.length) })),
      0,
    );
    const files = { sentiment: join(dir, 'sentiment-pairs.jsonl'), brevity: join(dir, 'brevity-pairs.jsonl') };
    writeTrlPreferences(files.sentiment, bySentiment.rows);
    writeTrlPreferences(files.brevity, byBrevity.rows);
    return { files, stats: { sentiment: bySentiment.stats, brevity: byBrevity.stats } };
  } finally {
    await model.dispose();
  }
}
