/**
 * Sampling a policy on prompts and scoring what it wrote: the data step of iLR-DPO and the
 * evaluation of every MODPO family member and iLR-DPO iterate. Works on any backend (only
 * LanguageModel.sample); a response's length is its token count under the policy's tokenizer.
 */
import type { LanguageModel, Sample } from '../lm/language-model.ts';
import { renderPrompt, type PromptFormat } from '../lm/prompt-format.ts';
import { promptTokens, responseTokens } from '../lm/response-tokens.ts';
import { scoreChecked, type ScoreInput } from '../decode/scorer.ts';
import type { RewardSource } from './reward-spec.ts';

export interface SampleSettings {
  samplesPerPrompt: number;
  maxNewTokens: number;
  /** default 1 */
  temperature?: number;
  topP?: number;
  topK?: number;
  stop?: readonly string[];
  /** prompt i is sampled with seed + i */
  seed: number;
  /** how the policy sees a raw prompt (default: as is) */
  format?: PromptFormat;
}

export interface ScoredSample {
  text: string;
  finishReason: Sample['finishReason'];
  length: number;
  /** one score per reward, in the order given */
  scores: number[];
}

export interface PromptSamples {
  index: number;
  /** the raw prompt (what rewards score) */
  prompt: string;
  /** the prompt as the policy saw it (its template applied; what training pairs hold) */
  rendered: string;
  samples: ScoredSample[];
}

function responseLength(model: LanguageModel, prompt: string, s: Sample): number {
  if (s.tokens.length || !s.text) return s.tokens.length;
  const t = responseTokens(model.tokenizer, prompt, promptTokens(model.tokenizer, prompt), s.text, {
    finished: true,
    eos: false,
  });
  return t.ids.length - t.responseStart;
}

/** N samples of one prompt, scored by every reward. */
export async function samplePrompt(
  model: LanguageModel,
  index: number,
  prompt: string,
  rewards: readonly RewardSource[],
  settings: SampleSettings,
): Promise<PromptSamples> {
  const rendered = renderPrompt(settings.format, prompt, model.tokenizer);
  const samples = await model.sample({
    prompt: rendered,
    n: settings.samplesPerPrompt,
    maxNewTokens: settings.maxNewTokens,
    temperature: settings.temperature ?? 1,
    topP: settings.topP,
    topK: settings.topK,
    stop: settings.stop,
    seed: settings.seed + index,
  });
  const items: ScoreInput[] = samples.map((s) => ({ prompt, response: s.text, finishReason: s.finishReason }));
  const lengths = samples.map((s) => responseLength(model, rendered, s));
  const perReward: number[][] = [];
  for (const r of rewards)
    perReward.push(r.negativeTokenCount ? lengths.map((n) => -n) : await scoreChecked(r.scorer, items));
  return {
    index,
    prompt,
    rendered,
    samples: samples.map((s, k) => ({
      text: s.text,
      finishReason: s.finishReason,
      length: lengths[k],
      scores: perReward.map((sc) => sc[k]),
    })),
  };
}

export interface PolicyScores {
  /** mean score per reward, in the order given */
  means: number[];
  meanLength: number;
  responses: number;
}

export function summarizeSamples(prompts: readonly PromptSamples[], rewardCount: number): PolicyScores {
  const all = prompts.flatMap((p) => p.samples);
  const mean = (f: (s: ScoredSample) => number) => (all.length ? all.reduce((a, s) => a + f(s), 0) / all.length : NaN);
  return {
    means: Array.from({ length: rewardCount }, (_, j) => mean((s) => s.scores[j])),
    meanLength: mean((s) => s.length),
    responses: all.length,
  };
}

/** Samples every prompt and averages the scores (an evaluation of one policy). */
export async function evaluatePolicy(
  model: LanguageModel,
  prompts: readonly string[],
  rewards: readonly RewardSource[],
  settings: SampleSettings,
  onProgress?: (done: number, total: number) => void,
): Promise<PolicyScores & { prompts: PromptSamples[] }> {
  const out: PromptSamples[] = [];
  for (let i = 0; i < prompts.length; i++) {
    out.push(await samplePrompt(model, i, prompts[i], rewards, settings));
    onProgress?.(i + 1, prompts.length);
  }
  return { ...summarizeSamples(out, rewards.length), prompts: out };
}
