/**
 * The main job (`npm start`, `alignkit demo`): the controlled-sentiment experiment of the
 * weak-to-strong search paper in miniature, on the embedded models. In each of several
 * independent draws (training prompts, test prompts and seeds) a small model is DPO-tuned
 * towards positive sentiment (gold reward: VADER) and a value model is fitted; then the large
 * model is steered with them: plain sampling, Best-of-N (ranked by the small pair's log-ratio),
 * EFT, weak-to-strong search and IVG — Best-of-N and W2S at several sample budgets. Each method's
 * gold reward is the mean over draws ± its standard error across draws.
 */
import { join } from 'node:path';
import { runSteerMethod } from '../decode/steer-methods/index.ts';
import { sentimentReward } from '../decode/rewards.ts';
import { valueModelFromHead, valueScorer, type ValueModel } from '../decode/value-model.ts';
import { logRatioScorer } from '../decode/log-ratio.ts';
import { guideQuality, GUIDES } from './guide-quality.ts';
import { requireScalarHead } from '../decode/scalar-head.ts';
import { RunSession } from '../run/run-session.ts';
import { requireScoring, type LanguageModel } from '../lm/language-model.ts';
import { finishRun } from '../report/finish-run.ts';
import { inputError } from '../errors.ts';
import { demoPrompts } from './demo-prompts.ts';
import { tuneSmallModel, type StageProgress, type TuneSettings, type TunedModels } from './tune-small.ts';
import { mainJobSummary } from './main-job-summary.ts';

export const DEMO_METHODS: readonly string[] = ['sample', 'bon', 'eft', 'w2s', 'ivg'];

export interface SearchSettings {
  beams: number;
  successors: number;
  chunkLength: number;
  beta: number;
  temperature: number;
  topK: number;
}

export interface MainJobOptions {
  embeddedDir: string;
  cacheDir: string;
  outDir: string;
  /** independent draws of prompts and seeds; draw d uses seed + d */
  draws: number;
  trainPrompts: number;
  testPrompts: number;
  maxNewTokens: number;
  seed: number;
  resume: boolean;
  /** the settings a --resume must share with the run it continues (default: not checked) */
  identity?: Record<string, unknown>;
  tune: Omit<TuneSettings, 'seed'>;
  search: SearchSettings;
  /** the sample budgets (N of Best-of-N, W·K of weak-to-strong search, each a square) of the compute curve */
  budgets: readonly number[];
  /** samples of the large model per test prompt on which each guide's ranking is compared with the gold reward */
  guideSamples: number;
  /** only these methods (default: all, see methodRuns) — for ablations */
  only?: readonly string[];
  onProgress?: StageProgress;
}

export const DEFAULT_MAIN_JOB: Omit<MainJobOptions, 'embeddedDir' | 'cacheDir' | 'outDir' | 'onProgress' | 'resume'> = {
  draws: 4,
  trainPrompts: 256,
  testPrompts: 16,
  maxNewTokens: 32,
  seed: 1,
  // DPO as the paper's sentiment model: lr 5e-4, 3 epochs, β 0.1
  tune: {
    samplesPerPrompt: 4,
    maxNewTokens: 32,
    temperature: 1,
    beta: 0.1,
    dpoEpochs: 3,
    dpoLr: 5e-4,
    valueEpochs: 3,
    valueLr: 1e-3,
  },
  // the paper's W=4, K=4, T=0.7, top-k 50; chunks of 4 tokens give 8 rounds over 32 tokens (the paper: L=5 over 50)
  search: { beams: 4, successors: 4, chunkLength: 4, beta: 1, temperature: 0.7, topK: 50 },
  budgets: [4, 16, 64],
  guideSamples: 16,
};

/** One steered response: a method at a sample budget on one prompt of one draw. */
export interface MethodRow {
  draw: number;
  method: string;
  /** samples per prompt: N for Best-of-N, W·K for the searches, 1 for sampling and EFT */
  budget: number;
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
  summary: ReturnType<typeof mainJobSummary>;
  rows: MethodRow[];
  tuned: TunedModels[];
  /** per draw: each guide's mean within-prompt Spearman ρ with the gold reward */
  guides: Record<string, number>[];
}

/** The runs of one prompt: every method at the matched budget, and Best-of-N / W2S at each budget of the curve. */
export function methodRuns(
  o: Pick<MainJobOptions, 'search' | 'budgets' | 'only'>,
): { method: string; budget: number }[] {
  const matched = o.search.beams * o.search.successors;
  const runs = [
    { method: 'sample', budget: 1 },
    { method: 'eft', budget: 1 },
    { method: 'ivg', budget: matched },
  ];
  for (const budget of [...new Set([...o.budgets, matched])].sort((a, b) => a - b))
    runs.push({ method: 'bon', budget }, { method: 'w2s', budget });
  return o.only ? runs.filter((r) => o.only!.includes(r.method)) : runs;
}

/** W and K of a search with `budget` samples per round: the square root each (the paper's W = K). */
function searchShape(budget: number, search: SearchSettings): { beams: number; successors: number } {
  if (budget === search.beams * search.successors) return { beams: search.beams, successors: search.successors };
  const side = Math.round(Math.sqrt(budget));
  return { beams: side, successors: budget / side };
}

export async function runMainJob(o: MainJobOptions): Promise<MainJobResult> {
  for (const b of o.budgets)
    if (!Number.isInteger(Math.sqrt(b)))
      throw inputError(`each compute budget must be a square (W = K = √budget), got ${b}`, { field: 'budgets' });
  const session = RunSession.open({ out: o.outDir, resume: o.resume, identity: o.identity, command: 'demo' });
  const run = session.folder;
  try {
    const smallDir = join(o.embeddedDir, 'small');
    const untuned = await session.models.load(smallDir);
    const large = await session.models.load(join(o.embeddedDir, 'large'));
    const draws: {
      seed: number;
      test: string[];
      tuned: TunedModels;
      models: { tuned: LanguageModel; value: ValueModel };
    }[] = [];
    for (let d = 0; d < o.draws; d++) {
      const seed = o.seed + d;
      const prompts = demoPrompts(o.embeddedDir, o.trainPrompts, o.testPrompts, seed);
      const tuned = await tuneSmallModel(
        untuned,
        smallDir,
        prompts.train,
        o.cacheDir,
        { ...o.tune, seed },
        (s, n, t, note) => o.onProgress?.(`draw ${d + 1}/${o.draws}: ${s}`, n, t, note),
      );
      const valueLm = await session.models.load(tuned.value);
      draws.push({
        seed,
        test: prompts.test,
        tuned,
        models: {
          tuned: await session.models.load(tuned.tuned),
          value: valueModelFromHead(requireScalarHead(valueLm, 'value')),
        },
      });
    }
    const gold = sentimentReward({ lexicon: 'vader' });
    const guides: Record<string, number>[] = [];
    for (const [d, draw] of draws.entries()) {
      o.onProgress?.("rank the large model's samples by each guide", d, o.draws);
      guides.push(
        await guideQuality(
          large,
          {
            [GUIDES['small-pair log-ratio (BoN, W2S)']]: logRatioScorer({ tuned: draw.models.tuned, untuned }),
            [GUIDES['value model (IVG)']]: valueScorer(draw.models.value),
          },
          gold,
          draw.test,
          { ...o.search, samples: o.guideSamples, maxNewTokens: o.maxNewTokens, seed: draw.seed * 1000 + 500 },
        ),
      );
    }
    const scoreUnderBase = requireScoring(large, 'the main job');
    session.start({
      embeddedDir: o.embeddedDir,
      methods: DEMO_METHODS,
      draws: o.draws,
      trainPrompts: o.trainPrompts,
      testPrompts: o.testPrompts,
      maxNewTokens: o.maxNewTokens,
      seed: o.seed,
      tune: o.tune,
      search: o.search,
      budgets: o.budgets,
    });
    const key = (r: Pick<MethodRow, 'draw' | 'method' | 'budget' | 'index'>) =>
      `${r.draw}|${r.method}|${r.budget}|${r.index}`;
    const done = new Set(run.finished<MethodRow>().map(key));
    const runs = methodRuns(o);
    const total = o.draws * o.testPrompts * runs.length;
    let count = done.size;
    for (const [d, draw] of draws.entries()) {
      for (const [i, prompt] of draw.test.entries()) {
        for (const { method, budget } of runs) {
          if (done.has(key({ draw: d, method, budget, index: i }))) continue;
          const t0 = performance.now();
          const r = await runSteerMethod(
            method,
            { large, tuned: draw.models.tuned, untuned, value: draw.models.value },
            prompt,
            {
              ...o.search,
              ...searchShape(budget, o.search),
              n: method === 'bon' ? budget : undefined,
              seed: draw.seed * 1000 + i,
              maxNewTokens: o.maxNewTokens,
            },
          );
          const seconds = (performance.now() - t0) / 1000;
          const [reward] = await gold.score([{ prompt, response: r.text, finishReason: r.finishReason }]);
          const [lp] = r.tokens.length
            ? await scoreUnderBase([{ prefix: prompt, continuation: r.tokens }])
            : [{ logprobs: [0] }];
          const row: MethodRow = {
            draw: d,
            method,
            budget,
            prompt,
            index: i,
            text: r.text,
            gold: reward,
            baseLogprob: lp.logprobs.reduce((a, b) => a + b, 0) / lp.logprobs.length,
            tokensProcessed: Object.values(r.usage).reduce((a, u) => a + u.processedTokens, 0),
            seconds,
          };
          run.append(row);
          o.onProgress?.('steer the large model', ++count, total, `draw ${d + 1}, ${method}`);
        }
      }
    }
    const rows = run.finished<MethodRow>();
    const tuned = draws.map((d) => d.tuned);
    const summary = mainJobSummary(rows, tuned, guides, o);
    finishRun(run, summary);
    return { summary, rows, tuned, guides };
  } finally {
    await session.close();
  }
}
