/**
 * `sweep modpo`: trains one MODPO policy per weight vector from the same SFT model, margins and
 * data (the margins are computed once, cached), then evaluates every member, the SFT model and
 * any implicit-reward margin model (the w_k = 0 end of the front, notes §2.2) on every
 * objective by sampling the same prompts with the same seeds. Finished members are records in
 * results.jsonl, so a killed sweep resumes with the member it was training.
 */
import { join } from 'node:path';
import type { LanguageModel } from '../lm/language-model.ts';
import { inputError } from '../errors.ts';
import { loadPreferenceData } from './data/load-preferences.ts';
import { pairMargins, type MarginOptions } from './margin-cache.ts';
import type { PairMargins } from './modpo-loss.ts';
import { weightVector, type ObjectiveWeights } from './objective-weights.ts';
import { evaluatePolicy, type SampleSettings } from './policy-samples.ts';
import type { PreferenceTrainer, TrainProgress } from './preference-trainer.ts';
import type { RewardSource } from './reward-spec.ts';

export interface ModpoData {
  /** TRL preference file of the trained objective (D_k) */
  file: string;
  maxLength: number;
}

/** The margins of every pair of `data`, in the order the trainer reads the pairs (file order). */
export async function modpoMargins(
  data: ModpoData,
  policy: LanguageModel,
  sources: readonly RewardSource[],
  options: MarginOptions,
): Promise<PairMargins[]> {
  const { pairs } = loadPreferenceData(data.file, policy.tokenizer, { maxLength: data.maxLength });
  return pairMargins(
    sources,
    pairs.map((p) => p.text!),
    options,
  );
}

export type MemberKind = 'modpo' | 'sft' | 'margin-model';

export interface MemberRecord {
  key: string;
  kind: MemberKind;
  /** [w_k, w_{-k}...]; null for the SFT model and margin models */
  weights: number[] | null;
  checkpoint: string;
  /** mean score per objective, in the objectives' order */
  objectives: number[];
  meanLength: number;
  responses: number;
  trainMetrics?: Record<string, number>;
}

export interface ModpoSweepOptions {
  out: string;
  /** π_sft: every member starts from it and uses it as the reference */
  sft: string;
  data: ModpoData;
  margins: readonly RewardSource[];
  weights: readonly ObjectiveWeights[];
  beta: number;
  /** what every member is evaluated on (the trained objective's evaluator first) */
  objectives: readonly RewardSource[];
  evalPrompts: readonly string[];
  sampling: SampleSettings;
  marginOptions: MarginOptions;
  /** margin models that are policies themselves (implicit DPO rewards): evaluated as the w_k = 0 end */
  marginPolicies?: readonly string[];
  seed: number;
  load(ref: string): Promise<LanguageModel>;
  release(ref: string): Promise<void>;
  train: PreferenceTrainer;
  results: { finished<T>(): T[]; append(record: unknown): void };
  onProgress?: (event: {
    member: string;
    stage: 'margins' | 'train' | 'evaluate';
    done: number;
    total: number;
    detail?: string;
  }) => void;
}

export const memberKey = (w: ObjectiveWeights) =>
  `w=${weightVector(w)
    .map((v) => +v.toFixed(6))
    .join(',')}`;

export async function runModpoSweep(o: ModpoSweepOptions): Promise<MemberRecord[]> {
  if (!o.weights.length) throw inputError('no weights to sweep', { field: '--weights' });
  if (!o.objectives.length) throw inputError('no objectives to evaluate the family on', { field: '--objectives' });
  if (!o.evalPrompts.length) throw inputError('no evaluation prompts', { field: '--eval-prompts' });
  const records = o.results.finished<MemberRecord>();
  const done = new Set(records.map((r) => r.key));

  const evaluate = async (
    key: string,
    kind: MemberKind,
    checkpoint: string,
    weights: number[] | null,
    trainMetrics?: Record<string, number>,
  ) => {
    const model = await o.load(checkpoint);
    const ev = await evaluatePolicy(model, o.evalPrompts, o.objectives, o.sampling, (d, n) =>
      o.onProgress?.({ member: key, stage: 'evaluate', done: d, total: n }),
    );
    await o.release(checkpoint);
    const record: MemberRecord = {
      key,
      kind,
      weights,
      checkpoint,
      objectives: ev.means,
      meanLength: ev.meanLength,
      responses: ev.responses,
      ...(trainMetrics ? { trainMetrics } : {}),
    };
    o.results.append(record);
    records.push(record);
    done.add(key);
  };

  if (!done.has('sft')) await evaluate('sft', 'sft', o.sft, null);
  for (const ref of o.marginPolicies ?? []) {
    const key = `margin:${ref}`;
    if (!done.has(key)) await evaluate(key, 'margin-model', ref, null);
  }

  const pending = o.weights.filter((w) => !done.has(memberKey(w)));
  if (pending.length) {
    const sft = await o.load(o.sft);
    const margins = await modpoMargins(o.data, sft, o.margins, {
      ...o.marginOptions,
      onProgress: (e) =>
        o.onProgress?.({
          member: e.source,
          stage: 'margins',
          done: e.done,
          total: e.total,
          detail: e.cached ? 'cached' : undefined,
        }),
    });
    await o.release(o.sft);
    for (const w of pending) {
      const key = memberKey(w);
      const onTrain: TrainProgress = (e) =>
        o.onProgress?.({
          member: key,
          stage: 'train',
          done: e.step,
          total: e.steps,
          detail: e.loss !== undefined ? `loss ${e.loss.toFixed(4)}` : undefined,
        });
      const trained = await o.train(
        {
          policy: o.sft,
          reference: o.sft,
          data: o.data.file,
          out: join(
            o.out,
            'members',
            key.replace(/[=,]/g, (c) => (c === '=' ? '-' : '_')),
          ),
          beta: o.beta,
          modpo: { weights: w, margins },
          seed: o.seed,
          resume: true,
        },
        onTrain,
      );
      await evaluate(key, 'modpo', trained.checkpoint, weightVector(w), trained.metrics);
    }
  }
  return records;
}
