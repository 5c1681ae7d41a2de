/**
 * The iLR-DPO loop (notes §3.3): for t = 1..T, sample N responses per prompt from π_{t−1},
 * score them with the reward, take the best vs the worst as a pair, train length-regularized
 * DPO with π_{t−1} as both the start and the reference, and evaluate π_t (mean reward and
 * length on fixed prompts and seeds, so iterations are comparable). With α = 0 it is plain
 * iterative DPO.
 *
 * Every step leaves its output in `out/iter-<t>/` and `state.json` says which step is running,
 * so a killed loop resumes inside that step: sampling and scoring stream one line per prompt
 * and skip finished prompts, training resumes from the trainer's own checkpoint, and the
 * finished iterations are kept. Each iteration's pairs are also TRL JSONL
 * (`iter-<t>/preferences.jsonl`), which an external trainer can take over.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LanguageModel } from '../lm/language-model.ts';
import { scoreChecked } from '../decode/scorer.ts';
import { AlignkitError, inputError } from '../errors.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { appendJsonl, readJsonlForResume } from '../util/jsonl.ts';
import { selectPair, type SkipReason } from './pair-selection.ts';
import { samplePrompt, summarizeSamples, type PromptSamples, type SampleSettings } from './policy-samples.ts';
import type { PreferenceTrainer, TrainProgress } from './preference-trainer.ts';
import type { RewardSource } from './reward-spec.ts';
import { writeTrlPreferences, type TrlPreference } from './trl-export.ts';

export type IlrStage = 'sample' | 'score' | 'train' | 'evaluate';
const STAGES: readonly IlrStage[] = ['sample', 'score', 'train', 'evaluate'];

export interface IlrDpoOptions {
  out: string;
  /** π_0 (a local checkpoint; later iterates are the trainer's checkpoints) */
  model: string;
  prompts: readonly string[];
  /** prompts used to evaluate each iterate (default: `prompts`) */
  evalPrompts?: readonly string[];
  iterations: number;
  /** take a fresh slice of this many prompts each iteration, cycling (default: all, every iteration) */
  promptsPerIteration?: number;
  reward: RewardSource;
  sampling: Omit<SampleSettings, 'seed'>;
  /** samples per evaluation prompt (default sampling.samplesPerPrompt) */
  evalSamplesPerPrompt?: number;
  beta: number;
  lengthAlpha: number;
  /** λ of the selection score r − λ·|y| (default 0: the length penalty lives in the loss) */
  selectionLengthPenalty?: number;
  seed: number;
  resume: boolean;
  load(ref: string): Promise<LanguageModel>;
  release(ref: string): Promise<void>;
  /** the trainer, or 'external': the loop stops before each training step (see `iterate`) */
  train: PreferenceTrainer | 'external';
  /** with an external trainer: the model it trained on the waiting iteration's pairs (a path or BASE_URL#MODEL) */
  iterate?: string;
  /** per-iteration records (a RunDir's results.jsonl) */
  results: { finished<T>(): T[]; append(record: unknown): void };
  onProgress?: (event: IlrProgress) => void;
}

export interface IlrProgress {
  iteration: number;
  stage: IlrStage;
  done: number;
  total: number;
  detail?: string;
}

export interface SelectionStats {
  prompts: number;
  pairs: number;
  skipped: Record<SkipReason, number>;
  meanChosenLength: number | null;
  meanRejectedLength: number | null;
  meanChosenReward: number | null;
  meanRejectedReward: number | null;
  /** mean length and reward of all sampled responses */
  meanSampleLength: number;
  meanSampleReward: number;
}

export interface IterationRecord {
  iteration: number;
  /** the checkpoint evaluated (π_t) */
  policy: string;
  reward: number;
  length: number;
  responses: number;
  /** pairs that trained π_t (absent for π_0) */
  selection?: SelectionStats;
  trainMetrics?: Record<string, number>;
}

interface LoopState {
  iteration: number;
  stage: IlrStage;
  /** π_t of each finished iteration (index 0 = π_0) */
  policies: string[];
  trainMetrics?: Record<string, number>;
}

const iterDir = (out: string, t: number) => join(out, `iter-${t}`);

export interface IlrDpoResult {
  records: IterationRecord[];
  /** set when the loop stopped for an external training step */
  waiting?: { iteration: number; data: string; policy: string };
}

export async function runIlrDpo(o: IlrDpoOptions): Promise<IlrDpoResult> {
  if (!Number.isInteger(o.iterations) || o.iterations < 1)
    throw inputError(`expected a positive integer, got ${o.iterations}`, { field: '--iterations' });
  if (!o.prompts.length) throw inputError('no prompts given', { field: '--prompts' });
  if (o.sampling.samplesPerPrompt < 2)
    throw inputError(`need at least 2 samples per prompt to form a pair, got ${o.sampling.samplesPerPrompt}`, {
      field: '--samples-per-prompt',
    });
  const statePath = join(o.out, 'state.json');
  let state: LoopState;
  if (existsSync(statePath)) {
    if (!o.resume)
      throw inputError(`${o.out} already holds an iLR-DPO run; pass --resume to continue it or choose another --out`, {
        field: '--out',
      });
    state = JSON.parse(readFileSync(statePath, 'utf8')) as LoopState;
  } else {
    state = { iteration: 0, stage: 'evaluate', policies: [o.model] };
  }
  const save = () => writeJsonAtomic(statePath, state);
  mkdirSync(o.out, { recursive: true });
  save();
  const records = o.results.finished<IterationRecord>();
  const evalPrompts = o.evalPrompts ?? o.prompts;
  const evalSettings: SampleSettings = {
    ...o.sampling,
    samplesPerPrompt: o.evalSamplesPerPrompt ?? o.sampling.samplesPerPrompt,
    seed: o.seed + 7,
  };

  o = { ...o };
  while (state.iteration <= o.iterations) {
    const t = state.iteration;
    const dir = iterDir(o.out, t);
    mkdirSync(dir, { recursive: true });
    const previous = state.policies[t - 1];
    const progress = (stage: IlrStage) => (done: number, total: number, detail?: string) =>
      o.onProgress?.({ iteration: t, stage, done, total, detail });

    if (state.stage === 'sample') {
      const prompts = iterationPrompts(o, t);
      const policy = await o.load(previous);
      await streamPerPrompt(join(dir, 'samples.jsonl'), prompts.length, progress('sample'), async (i) => {
        const s = await samplePrompt(policy, i, prompts[i], [], { ...o.sampling, seed: o.seed + 1_000_003 * t });
        return {
          index: i,
          prompt: s.prompt,
          rendered: s.rendered,
          samples: s.samples.map(({ text, finishReason, length }) => ({ text, finishReason, length })),
        };
      });
      advance(state, 'score');
      save();
    }
    if (state.stage === 'score') {
      const samples = readLines<PromptSamples>(join(dir, 'samples.jsonl'));
      await streamPerPrompt(join(dir, 'scores.jsonl'), samples.length, progress('score'), async (i) => {
        const p = samples[i];
        const rewards = await scoreChecked(
          o.reward.scorer,
          p.samples.map((s) => ({ prompt: p.prompt, response: s.text, finishReason: s.finishReason })),
        );
        return { index: i, rewards };
      });
      const scores = readLines<{ index: number; rewards: number[] }>(join(dir, 'scores.jsonl'));
      const { rows, stats } = selectPairs(samples, scores, o.selectionLengthPenalty ?? 0);
      writeJsonAtomic(join(dir, 'selection.json'), stats);
      if (!rows.length) {
        throw new AlignkitError(
          'input',
          `iteration ${t}: no usable preference pairs from ${stats.prompts} prompts (${stats.skipped.identical} gave ${o.sampling.samplesPerPrompt} identical responses, ${stats.skipped.tied} tied rewards); ` +
            'raise --temperature or --samples-per-prompt, or use a reward that separates the responses (details in ' +
            join(dir, 'selection.json') +
            ')',
          { field: '--prompts' },
        );
      }
      writeTrlPreferences(join(dir, 'preferences.jsonl'), rows);
      advance(state, 'train');
      save();
    }
    if (o.iterate !== undefined && (state.stage !== 'train' || o.train !== 'external'))
      throw inputError(
        `an iterate is only taken when the loop waits for an external training step (this run is at iteration ${t}, step ${state.stage})`,
        { field: '--iterate' },
      );
    if (state.stage === 'train' && o.train === 'external') {
      if (o.iterate === undefined)
        return {
          records: sorted(records),
          waiting: { iteration: t, data: join(dir, 'preferences.jsonl'), policy: previous },
        };
      state.policies[t] = o.iterate;
      o.iterate = undefined;
      advance(state, 'evaluate');
      save();
    }
    if (state.stage === 'train' && o.train !== 'external') {
      await o.release(previous);
      const onTrain: TrainProgress = (e) =>
        progress('train')(e.step, e.steps, e.loss !== undefined ? `loss ${e.loss.toFixed(4)}` : undefined);
      const trained = await o.train(
        {
          policy: previous,
          reference: previous,
          data: join(dir, 'preferences.jsonl'),
          out: join(dir, 'train'),
          beta: o.beta,
          lengthAlpha: o.lengthAlpha,
          seed: o.seed + t,
          resume: true,
        },
        onTrain,
      );
      state.policies[t] = resolve(trained.checkpoint);
      state.trainMetrics = trained.metrics;
      advance(state, 'evaluate');
      save();
    }
    if (state.stage === 'evaluate') {
      const policyRef = state.policies[t];
      if (!records.some((r) => r.iteration === t)) {
        const policy = await o.load(policyRef);
        const evaluated: PromptSamples[] = [];
        for (let i = 0; i < evalPrompts.length; i++) {
          evaluated.push(await samplePrompt(policy, i, evalPrompts[i], [o.reward], evalSettings));
          progress('evaluate')(i + 1, evalPrompts.length);
        }
        const summary = summarizeSamples(evaluated, 1);
        writeJsonAtomic(join(dir, 'eval.json'), { policy: policyRef, ...summary, prompts: evaluated });
        const selectionPath = join(dir, 'selection.json');
        const record: IterationRecord = {
          iteration: t,
          policy: policyRef,
          reward: summary.means[0],
          length: summary.meanLength,
          responses: summary.responses,
          ...(t > 0 && existsSync(selectionPath)
            ? { selection: JSON.parse(readFileSync(selectionPath, 'utf8')) as SelectionStats }
            : {}),
          ...(t > 0 && state.trainMetrics ? { trainMetrics: state.trainMetrics } : {}),
        };
        o.results.append(record);
        records.push(record);
      }
      state.iteration = t + 1;
      state.stage = 'sample';
      state.trainMetrics = undefined;
      save();
    }
  }
  return { records: sorted(records) };
}

const sorted = (records: IterationRecord[]) => [...records].sort((a, b) => a.iteration - b.iteration);

function advance(state: LoopState, stage: IlrStage): void {
  if (STAGES.indexOf(stage) <= STAGES.indexOf(state.stage))
    throw new AlignkitError('internal', `iLR-DPO stage ${state.stage} cannot go to ${stage}`);
  state.stage = stage;
}

/** The prompts of iteration t: all of them, or the t-th slice of `promptsPerIteration` (cycling). */
export function iterationPrompts(o: Pick<IlrDpoOptions, 'prompts' | 'promptsPerIteration'>, t: number): string[] {
  const k = o.promptsPerIteration;
  if (!k || k >= o.prompts.length) return [...o.prompts];
  return Array.from({ length: k }, (_, j) => o.prompts[((t - 1) * k + j) % o.prompts.length]);
}

/** Runs `work` for every index whose line is not yet in `path`, appending each result as one line. */
async function streamPerPrompt(
  path: string,
  count: number,
  progress: (done: number, total: number) => void,
  work: (i: number) => Promise<{ index: number }>,
): Promise<void> {
  const done = new Set(readJsonlForResume<{ index: number }>(path).map((r) => r.index));
  progress(done.size, count);
  for (let i = 0; i < count; i++) {
    if (done.has(i)) continue;
    appendJsonl(path, await work(i));
    done.add(i);
    progress(done.size, count);
  }
}

function readLines<T extends { index: number }>(path: string): T[] {
  const rows = readJsonlForResume<T>(path);
  const byIndex: T[] = [];
  for (const r of rows) byIndex[r.index] = r;
  return byIndex;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Best-vs-worst pairs of every prompt as TRL rows, with what was skipped and why. */
export function selectPairs(
  samples: readonly PromptSamples[],
  scores: readonly { rewards: number[] }[],
  lengthPenalty: number,
): { rows: TrlPreference[]; stats: SelectionStats } {
  const rows: TrlPreference[] = [];
  const skipped: Record<SkipReason, number> = { identical: 0, tied: 0, 'too-few': 0 };
  samples.forEach((p, i) => {
    const responses = p.samples.map((s, k) => ({ text: s.text, length: s.length, reward: scores[i].rewards[k] }));
    const sel = selectPair(responses, lengthPenalty);
    if ('skip' in sel) {
      skipped[sel.skip]++;
      return;
    }
    const c = responses[sel.chosen],
      r = responses[sel.rejected];
    rows.push({
      prompt: p.rendered ?? p.prompt,
      chosen: c.text,
      rejected: r.text,
      score_chosen: c.reward,
      score_rejected: r.reward,
      length_chosen: c.length,
      length_rejected: r.length,
    });
  });
  const all = samples.flatMap((p, i) => p.samples.map((s, k) => ({ length: s.length, reward: scores[i].rewards[k] })));
  return {
    rows,
    stats: {
      prompts: samples.length,
      pairs: rows.length,
      skipped,
      meanChosenLength: mean(rows.map((r) => r.length_chosen!)),
      meanRejectedLength: mean(rows.map((r) => r.length_rejected!)),
      meanChosenReward: mean(rows.map((r) => r.score_chosen!)),
      meanRejectedReward: mean(rows.map((r) => r.score_rejected!)),
      meanSampleLength: mean(all.map((a) => a.length)) ?? NaN,
      meanSampleReward: mean(all.map((a) => a.reward)) ?? NaN,
    },
  };
}
