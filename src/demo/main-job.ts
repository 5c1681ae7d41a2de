/**
 * The main job (`npm start`, `alignkit demo`): the controlled-sentiment experiment of the
 * weak-to-strong search paper in miniature, on the embedded models. A small model is DPO-tuned
 * towards positive sentiment (gold reward: VADER), then the large model is steered with it at
 * matched compute: plain sampling, Best-of-N (ranked by the small pair's log-ratio), EFT,
 * weak-to-strong search and IVG. For each method: gold reward, log-likelihood of the responses
 * under the large base model (how far the method moved from it), and tokens processed.
 */
import { join } from 'node:path';
import { runSteerMethod } from '../decode/steer-methods/index.ts';
import { sentimentReward } from '../decode/rewards.ts';
import { valueModelFromHead } from '../decode/value-model.ts';
import { requireScalarHead } from '../decode/scalar-head.ts';
import { RunSession } from '../run/run-session.ts';
import { requireScoring } from '../lm/language-model.ts';
import type { Summary } from '../run/summary.ts';
import { finishRun } from '../report/finish-run.ts';
import { demoPrompts } from './demo-prompts.ts';
import { tuneSmallModel, type StageProgress, type TuneSettings, type TunedModels } from './tune-small.ts';

export const DEMO_METHODS: readonly string[] = ['sample', 'bon', 'eft', 'w2s', 'ivg'];

export interface MainJobOptions {
  embeddedDir: string;
  cacheDir: string;
  outDir: string;
  trainPrompts: number;
  testPrompts: number;
  maxNewTokens: number;
  seed: number;
  resume: boolean;
  /** the settings a --resume must share with the run it continues (default: not checked) */
  identity?: Record<string, unknown>;
  tune: TuneSettings;
  search: { beams: number; successors: number; chunkLength: number; beta: number; temperature: number; topK: number };
  onProgress?: StageProgress;
}

export const DEFAULT_MAIN_JOB: Omit<MainJobOptions, 'embeddedDir' | 'cacheDir' | 'outDir' | 'onProgress' | 'resume'> = {
  trainPrompts: 512,
  testPrompts: 32,
  maxNewTokens: 24,
  seed: 1,
  // DPO as the paper's sentiment model: lr 5e-4, 3 epochs, β 0.1
  tune: {
    samplesPerPrompt: 4,
    maxNewTokens: 24,
    temperature: 1,
    beta: 0.1,
    dpoEpochs: 3,
    dpoLr: 5e-4,
    valueEpochs: 3,
    valueLr: 1e-3,
    seed: 1,
  },
  // the paper's W=4, K=4, T=0.7, top-k 50; chunks of 3 tokens give 8 rounds over 24 tokens (the paper: L=5 over 50)
  search: { beams: 4, successors: 4, chunkLength: 3, beta: 1, temperature: 0.7, topK: 50 },
};

export interface MethodRow {
  method: string;
  prompt: string;
  index: number;
  text: string;
  gold: number;
  /** mean log-prob per token of the response under the large base model */
  baseLogprob: number;
  tokensProcessed: number;
  seconds: number;
}

export interface MainJobResult {
  summary: Summary;
  rows: MethodRow[];
  tuned: TunedModels;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const stderr = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1) / Math.max(1, xs.length));
};

export async function runMainJob(o: MainJobOptions): Promise<MainJobResult> {
  const session = RunSession.open({ out: o.outDir, resume: o.resume, identity: o.identity, command: 'demo' });
  const run = session.folder;
  const { train: trainPrompts, test } = demoPrompts(o.trainPrompts, o.testPrompts, o.seed);
  try {
    const smallDir = join(o.embeddedDir, 'small');
    const untuned = await session.models.load(smallDir);
    const tuned = await tuneSmallModel(untuned, smallDir, trainPrompts, o.cacheDir, o.tune, o.onProgress);
    const models = {
      large: await session.models.load(join(o.embeddedDir, 'large')),
      untuned,
      tuned: await session.models.load(tuned.tuned),
      valueLm: await session.models.load(tuned.value),
    };
    const value = valueModelFromHead(requireScalarHead(models.valueLm, 'value'));
    const gold = sentimentReward({ lexicon: 'vader' });
    session.start({
      embeddedDir: o.embeddedDir,
      methods: DEMO_METHODS,
      trainPrompts: trainPrompts.length,
      testPrompts: test.length,
      maxNewTokens: o.maxNewTokens,
      seed: o.seed,
      tune: o.tune,
      search: o.search,
    });
    const done = new Set(run.finished<MethodRow>().map((r) => `${r.method}|${r.index}`));
    const total = test.length * DEMO_METHODS.length;
    let count = done.size;
    for (let i = 0; i < test.length; i++) {
      for (const method of DEMO_METHODS) {
        if (done.has(`${method}|${i}`)) continue;
        const t0 = performance.now();
        const r = await runSteerMethod(
          method,
          { large: models.large, tuned: models.tuned, untuned: models.untuned, value },
          test[i],
          {
            ...o.search,
            seed: o.seed + i,
            maxNewTokens: o.maxNewTokens,
          },
        );
        const seconds = (performance.now() - t0) / 1000;
        const [reward] = await gold.score([{ prompt: test[i], response: r.text, finishReason: r.finishReason }]);
        const [lp] = r.tokens.length
          ? await requireScoring(models.large, 'the main job')([{ prefix: test[i], continuation: r.tokens }])
          : [{ logprobs: [0] }];
        const row: MethodRow = {
          method,
          prompt: test[i],
          index: i,
          text: r.text,
          gold: reward,
          baseLogprob: mean(lp.logprobs),
          tokensProcessed: Object.values(r.usage).reduce((a, u) => a + u.processedTokens, 0),
          seconds,
        };
        run.append(row);
        o.onProgress?.('steer the large model', ++count, total, method);
      }
    }
    const rows = run.finished<MethodRow>();
    const summary = mainJobSummary(rows, tuned, o.search);
    finishRun(run, summary);
    return { summary, rows, tuned };
  } finally {
    await session.close();
  }
}

export function mainJobSummary(
  rows: readonly MethodRow[],
  tuned: TunedModels,
  search: MainJobOptions['search'],
): Summary {
  const by = (m: string) => rows.filter((r) => r.method === m);
  const table = DEMO_METHODS.map((m) => {
    const rs = by(m);
    const g = rs.map((r) => r.gold);
    return [
      m,
      Number(mean(g).toFixed(3)),
      Number(stderr(g).toFixed(3)),
      Number(mean(rs.map((r) => r.baseLogprob)).toFixed(3)),
      Math.round(mean(rs.map((r) => r.tokensProcessed))),
      Number(mean(rs.map((r) => r.seconds)).toFixed(2)),
    ];
  });
  const sample = mean(by('sample').map((r) => r.gold));
  return {
    kind: 'demo',
    title: 'Controlled sentiment on the embedded models: steering the large model with a DPO-tuned small one',
    metrics: Object.fromEntries(
      DEMO_METHODS.map((m) => [`gold reward: ${m}`, Number(mean(by(m).map((r) => r.gold)).toFixed(3))]),
    ),
    tables: [
      {
        title: `Methods at matched compute (W=${search.beams}, K=${search.successors}, L=${search.chunkLength}; Best-of-${search.beams * search.successors})`,
        columns: [
          'method',
          'gold reward (VADER)',
          '± s.e.',
          'log p base / token',
          'tokens processed / prompt',
          's / prompt',
        ],
        rows: table,
        note: `${by('sample').length} held-out prompts. Gold reward: VADER compound of the response in [−1, 1]; plain sampling scores ${sample.toFixed(3)}. "log p base / token" is the large base model's mean log-probability of the response (lower = further from the base model).`,
      },
      {
        title: 'The tuned small model',
        columns: [
          'prompts',
          'samples',
          'preference pairs',
          'mean reward chosen',
          'mean reward rejected',
          'DPO accuracy (last step)',
          'DPO margin (last step)',
          'value MSE (last step)',
          'from cache',
        ],
        rows: [
          [
            tuned.stats.prompts,
            tuned.stats.samples,
            tuned.stats.pairs,
            Number(tuned.stats.meanChosen.toFixed(3)),
            Number(tuned.stats.meanRejected.toFixed(3)),
            Number((tuned.stats.dpo['rewards/accuracies'] ?? NaN).toFixed(3)),
            Number((tuned.stats.dpo['rewards/margins'] ?? NaN).toFixed(3)),
            Number((tuned.stats.value.mse ?? NaN).toFixed(4)),
            tuned.stats.cached ? 'yes' : 'no',
          ],
        ],
      },
      {
        title: 'Examples (first prompt)',
        columns: ['method', 'response', 'gold'],
        rows: rows.filter((r) => r.index === 0).map((r) => [r.method, r.prompt + r.text, Number(r.gold.toFixed(3))]),
      },
    ],
    plots: [
      {
        type: 'scatter',
        title: 'Gold reward vs compute',
        xLabel: 'tokens processed per prompt (all models)',
        yLabel: 'gold reward (VADER)',
        xScale: 'log',
        series: DEMO_METHODS.map((m) => ({
          name: m,
          points: [[mean(by(m).map((r) => r.tokensProcessed)), mean(by(m).map((r) => r.gold))]] as [number, number][],
          errors: [stderr(by(m).map((r) => r.gold))],
        })),
      },
      {
        type: 'scatter',
        title: 'Gold reward vs closeness to the base model',
        xLabel: 'log p under the large base model, per token',
        yLabel: 'gold reward (VADER)',
        series: DEMO_METHODS.map((m) => ({
          name: m,
          points: [[mean(by(m).map((r) => r.baseLogprob)), mean(by(m).map((r) => r.gold))]] as [number, number][],
        })),
      },
    ],
  };
}
