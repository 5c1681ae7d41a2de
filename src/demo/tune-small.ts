/**
 * Stage 1 of the main job: from the small base model, build preference pairs with the gold
 * sentiment reward, DPO-tune the small model on them ("tuned" of weak-to-strong search), and fit
 * IVG's explicit value model on the same samples. Everything lands in a cache folder keyed by the
 * recipe, so later runs start from stage 2.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModel } from '../lm/language-model.ts';
import { readLocalCheckpoint } from '../lm/load.ts';
import { sentimentReward } from '../decode/rewards.ts';
import { loadPreferenceData } from '../train/data/load-preferences.ts';
import { dpoObjective } from '../train/dpo-objective.ts';
import { attachReferenceLogps } from '../train/reference-logps.ts';
import { train, FINAL_MODEL_DIR } from '../train/trainer.ts';
import { defaultOptimizer } from '../train/optimizer.ts';
import { valueObjective, type ValueExample } from '../train/value-objective.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';

export interface TuneSettings {
  samplesPerPrompt: number;
  maxNewTokens: number;
  temperature: number;
  beta: number;
  dpoEpochs: number;
  dpoLr: number;
  valueEpochs: number;
  valueLr: number;
  seed: number;
}

export interface TunedModels {
  /** DPO-tuned small model (HF directory) */
  tuned: string;
  /** explicit value model (reward-model directory) */
  value: string;
  /** preference pairs used, TRL JSONL */
  pairsFile: string;
  stats: {
    prompts: number;
    samples: number;
    pairs: number;
    meanChosen: number;
    meanRejected: number;
    dpo: Record<string, number>;
    value: Record<string, number>;
    cached: boolean;
  };
}

export type StageProgress = (stage: string, done: number, total: number, note?: string) => void;

function cacheKey(smallDir: string, prompts: readonly string[], s: TuneSettings): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(smallDir, 'model.safetensors')));
  h.update(JSON.stringify({ prompts, s, version: 1 }));
  return h.digest('hex').slice(0, 16);
}

export async function tuneSmallModel(
  small: LanguageModel,
  smallDir: string,
  prompts: readonly string[],
  cacheRoot: string,
  s: TuneSettings,
  onProgress?: StageProgress,
): Promise<TunedModels> {
  const dir = join(cacheRoot, cacheKey(smallDir, prompts, s));
  const doneFile = join(dir, 'done.json');
  if (existsSync(doneFile))
    return {
      ...(JSON.parse(readFileSync(doneFile, 'utf8')) as TunedModels),
      stats: { ...JSON.parse(readFileSync(doneFile, 'utf8')).stats, cached: true },
    };
  mkdirSync(dir, { recursive: true });
  const gold = sentimentReward({ lexicon: 'vader' });

  // 1. samples of the small base model, scored by the gold reward
  const samples: { prompt: string; response: string; tokens: number[]; reward: number }[] = [];
  for (let i = 0; i < prompts.length; i++) {
    const out = await small.sample({
      prompt: prompts[i],
      n: s.samplesPerPrompt,
      maxNewTokens: s.maxNewTokens,
      temperature: s.temperature,
      seed: s.seed + i,
    });
    const rewards = await gold.score(
      out.map((o) => ({ prompt: prompts[i], response: o.text, finishReason: o.finishReason })),
    );
    out.forEach((o, k) => samples.push({ prompt: prompts[i], response: o.text, tokens: o.tokens, reward: rewards[k] }));
    onProgress?.('sample preferences', i + 1, prompts.length);
  }

  // 2. best vs worst response of each prompt
  const pairs: { prompt: string; chosen: string; rejected: string; margin: number }[] = [];
  for (const prompt of prompts) {
    const mine = samples
      .filter((x) => x.prompt === prompt && x.response.trim() !== '')
      .sort((a, b) => b.reward - a.reward);
    if (mine.length < 2 || mine[0].reward - mine[mine.length - 1].reward < 0.05) continue;
    pairs.push({
      prompt,
      chosen: mine[0].response,
      rejected: mine[mine.length - 1].response,
      margin: mine[0].reward - mine[mine.length - 1].reward,
    });
  }
  const pairsFile = join(dir, 'pairs.jsonl');
  writeFileSync(
    pairsFile,
    pairs.map((p) => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected })).join('\n') + '\n',
  );

  // 3. DPO from the small base (which is also the frozen reference)
  const base = readLocalCheckpoint(smallDir);
  const data = loadPreferenceData(pairsFile, base.tokenizer, { maxLength: base.config.maxPositions });
  await attachReferenceLogps(base.config, base.weights, data.pairs, join(dir, 'reference-logps.json'));
  const common = {
    optimizer: defaultOptimizer('adamw'),
    schedule: 'cosine' as const,
    warmup: 5,
    maxGradNorm: 1,
    batchSize: 16,
    gradAccum: 1,
    seed: s.seed,
    saveEvery: 0,
    evalEvery: 0,
    keepCheckpoints: 1,
    resume: false,
  };
  const dpo = await train({
    ...common,
    objective: dpoObjective({ beta: s.beta }),
    model: base,
    train: data.pairs,
    lr: s.dpoLr,
    epochs: s.dpoEpochs,
    outDir: join(dir, 'dpo'),
    modelKind: 'causal-lm',
    onProgress: (p) =>
      p.phase === 'train' && onProgress?.('DPO-tune the small model', p.step, p.totalSteps, p.loss?.toFixed(3)),
  });

  // 4. explicit value model: the small base with a scalar head, regressed on every prefix's final reward
  const fresh = readLocalCheckpoint(smallDir);
  const valueItems: ValueExample[] = samples
    .filter((x) => x.tokens.length > 0)
    .map((x, i) => ({
      promptIds: fresh.tokenizer.encode(x.prompt, { addBos: true }),
      responseIds: x.tokens,
      reward: x.reward,
      file: 'samples',
      line: i + 1,
      truncated: false,
    }));
  const value = await train({
    ...common,
    objective: valueObjective(),
    model: fresh,
    train: valueItems,
    lr: s.valueLr,
    epochs: s.valueEpochs,
    outDir: join(dir, 'value'),
    modelKind: 'reward-model',
    onProgress: (p) =>
      p.phase === 'train' && onProgress?.('fit the value model', p.step, p.totalSteps, p.loss?.toFixed(4)),
  });

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const result: TunedModels = {
    tuned: join(dir, 'dpo', FINAL_MODEL_DIR),
    value: join(dir, 'value', FINAL_MODEL_DIR),
    pairsFile,
    stats: {
      prompts: prompts.length,
      samples: samples.length,
      pairs: pairs.length,
      meanChosen: mean(pairs.map((p) => samples.find((x) => x.response === p.chosen)!.reward)),
      meanRejected: mean(pairs.map((p) => samples.find((x) => x.response === p.rejected)!.reward)),
      dpo: dpo.final,
      value: value.final,
      cached: false,
    },
  };
  writeJsonAtomic(doneFile, result);
  return result;
}
