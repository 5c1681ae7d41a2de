import type { LanguageModel } from '../lm/language-model.ts';
import { inputError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import type { ChunkRow, SamplingOptions } from './chunk-sampler.ts';
import { type PromptFormat, chatPrompt, renderPrompt } from '../lm/prompt-format.ts';
import type { SeedOption, SteerResult } from './steer-result.ts';
import { sampleMixture } from './token-stream-sampler.ts';
import { UsageMeter } from './usage.ts';

/** A URIAL-style prompt that lets a pre-trained model answer a query (our wording; same sections as the reference). */
export const BASE_QUERY_TEMPLATE =
  '# Instruction\n\nBelow is a conversation between a human and an AI assistant (you). ' +
  'The human writes a query under "# Query:" and the assistant answers it under "# Response:".\n\n' +
  '# Query:\n```\n{prompt}\n```\n\n# Response:\n```\n';

const MISTRAL_GUARDRAIL =
  'Always assist with care, respect, and truth. Respond with utmost utility yet securely. ' +
  'Avoid harmful, unethical, prejudiced, or negative content. Ensure replies promote fairness and positivity.';

export interface EdFamily {
  alpha: number;
  baseFormat: PromptFormat;
  alignedFormat: PromptFormat;
  /** responses end at these strings; while any is set, EOS is never sampled (as in the reference) */
  stop: string[];
}

/**
 * Per-family settings of the reference code's registry (notes §3.3). The α values are the
 * paper's per-family choices: Llama-2 × Llama-2-chat 0.3; Llama-1 × Vicuna 0.6; Mistral ×
 * Mistral-Instruct 0.6; Alpaca × Beaver 2.0. "Responses" for Mistral is the reference's own.
 */
export const ED_FAMILIES: Record<string, EdFamily> = {
  'llama-2': {
    alpha: 0.3,
    baseFormat: BASE_QUERY_TEMPLATE,
    alignedFormat: (p, tok) => chatPrompt(tok, p) + ' ',
    stop: ['Query', 'Response'],
  },
  llama: {
    alpha: 0.6,
    baseFormat: BASE_QUERY_TEMPLATE,
    alignedFormat:
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: {prompt} ASSISTANT:",
    stop: ['Query', 'Response'],
  },
  mistral: {
    alpha: 0.6,
    baseFormat: BASE_QUERY_TEMPLATE,
    alignedFormat: (p, tok) => chatPrompt(tok, `${MISTRAL_GUARDRAIL}\n\n${p}`),
    stop: ['Query', 'Responses'],
  },
  alpaca: {
    alpha: 2.0,
    baseFormat: 'BEGINNING OF CONVERSATION: USER: {prompt} ASSISTANT:',
    alignedFormat: 'BEGINNING OF CONVERSATION: USER: {prompt} ASSISTANT:',
    stop: [],
  },
};

/** α when neither a family nor --alpha is given (the Llama-2 value). */
export const ED_DEFAULT_ALPHA = 0.3;

export interface EdOptions extends SamplingOptions, SeedOption {
  alpha?: number;
  /** a key of ED_FAMILIES: its α, prompt formats and stop strings are the defaults */
  family?: string;
  baseFormat?: PromptFormat;
  alignedFormat?: PromptFormat;
  /** responses shorter than this many tokens are resampled (reference: 8) */
  minNewTokens?: number;
  /** samples drawn at most per prompt while responses stay too short (default 5; the longest is kept) */
  maxAttempts?: number;
}

/**
 * Emulated disalignment: samples from log-softmax((1+α)·log p_base − α·log p_aligned), i.e.
 * p_base^{1+α} / p_aligned^α renormalized per token, each model under its own prompt. α = 0 is
 * the base model. With stop strings, EOS is suppressed and the response is cut at the first
 * stop string, then trailing spaces, "#" and newlines are stripped.
 */
export async function emulatedDisalignment(
  base: LanguageModel,
  aligned: LanguageModel,
  prompt: string,
  options: EdOptions,
): Promise<SteerResult> {
  const family = options.family === undefined ? undefined : ED_FAMILIES[options.family];
  if (options.family !== undefined && !family)
    throw inputError(
      `unknown ED family "${options.family}" (expected one of: ${Object.keys(ED_FAMILIES).join(', ')})`,
      { field: 'family' },
    );
  const alpha = options.alpha ?? family?.alpha ?? ED_DEFAULT_ALPHA;
  if (!Number.isFinite(alpha) || alpha < 0)
    throw inputError(`--alpha must be a number ≥ 0, got ${alpha}`, { field: 'alpha' });
  const stop = options.stop ?? family?.stop ?? [];
  const eos = base.tokenizer.eosId;
  const terms = [
    {
      role: 'base',
      model: base,
      weight: 1 + alpha,
      prompt: renderPrompt(options.baseFormat ?? family?.baseFormat, prompt, base.tokenizer),
    },
    {
      role: 'aligned',
      model: aligned,
      weight: -alpha,
      prompt: renderPrompt(options.alignedFormat ?? family?.alignedFormat, prompt, aligned.tokenizer),
    },
  ];
  const meter = new UsageMeter({ base, aligned });
  const rng = createRng(options.seed ?? 0);
  const minTokens = options.minNewTokens ?? 8;
  const attempts = Math.max(1, options.maxAttempts ?? 5);
  let best: ChunkRow | undefined;
  for (let attempt = 0; attempt < attempts && !(best && best.generated >= minTokens); attempt++) {
    const [row] = await sampleMixture(
      terms,
      1,
      { ...options, stop, suppress: stop.length && eos !== null ? [eos] : [], method: 'ed' },
      rng,
    );
    row.text = row.text.replace(/[ #\n]+$/, '');
    if (!best || row.generated > best.generated) best = row;
  }
  return {
    method: 'ed',
    text: best!.text,
    tokens: best!.tokens,
    finishReason: best!.finishReason ?? 'length',
    score: null,
    usage: meter.delta(),
  };
}
