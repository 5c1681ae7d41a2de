/**
 * Reward references, shared by MODPO margin models, the iLR-DPO reward and sweep objectives.
 * Every kind scores (prompt, response) TEXT, so a model with another tokenizer than the policy
 * re-tokenizes the text itself:
 *
 *   length                 −(response tokens under the policy's tokenizer): a rule margin (brevity)
 *   sentiment|vader|afinn  a lexicon sentiment score of the response (gold reward)
 *   rm:PATH                a Bradley-Terry reward model (scalar head, `alignkit train rm`)
 *   dpo:PATH[@REF]         the implicit DPO reward β·(log π_PATH(y|x) − log π_REF(y|x)), EOS
 *                          appended as in training; REF defaults to the run's SFT model
 *   PATH                   rm: when the model has a scalar head, dpo: otherwise
 */
import type { LanguageModel } from '../lm/language-model.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import type { Scorer, ScoreInput } from '../decode/scorer.ts';
import { SENTIMENT_LEXICONS, type SentimentLexicon, rewardModelScorer, sentimentReward } from '../decode/rewards.ts';
import { hasScalarHead, requireScalarHead } from '../decode/scalar-head.ts';
import { logRatioScorer } from '../decode/log-ratio.ts';
import { promptTokens, responseTokens } from '../lm/response-tokens.ts';
import type { PromptFormat } from '../lm/prompt-format.ts';
import { AlignkitError, inputError } from '../errors.ts';
import { modelFingerprint } from './model-fingerprint.ts';

export interface RewardContext {
  /** loads (and shares) a model by reference */
  load(ref: string): Promise<LanguageModel>;
  /** the policy's tokenizer, which `length` counts in */
  policyTokenizer: Tokenizer;
  /** π_sft of implicit rewards given without @REF */
  sftRef?: string;
  /** β of implicit rewards (the same β as the MODPO run, as the reference code does) */
  beta: number;
  /** how reward models see the raw prompt (default: as is) */
  format?: PromptFormat;
}

export interface RewardSource {
  spec: string;
  /** for tables and plots */
  name: string;
  /** what a cache keys on (undefined: a cheap rule, recomputed rather than cached) */
  fingerprint?: string;
  scorer: Scorer;
  /** an implicit reward's tuned model π_φ, itself a policy (the w_k = 0 end of a MODPO front) */
  policy?: string;
  /**
   * the `length` rule: for sampled responses the sampled token count is used (exact; re-encoding
   * the text of a byte-fallback character that did not decode can give more tokens)
   */
  negativeTokenCount?: boolean;
}

export const SPEC_HELP = 'length, sentiment, vader, afinn, rm:PATH, dpo:PATH[@REF] or a model path';

/** A rule reward: minus the response's token count (EOS not counted). */
export function lengthReward(tokenizer: Tokenizer): Scorer {
  return {
    name: 'length',
    async score(items: readonly ScoreInput[]) {
      return items.map((it) => {
        const t = responseTokens(tokenizer, it.prompt, promptTokens(tokenizer, it.prompt), it.response, {
          finished: true,
          eos: false,
        });
        return -(t.ids.length - t.responseStart);
      });
    },
  };
}

/** The implicit reward β·log π_φ/π_ref on complete responses (EOS appended, as DPO trains them). */
function implicitReward(
  tuned: LanguageModel,
  reference: LanguageModel,
  beta: number,
  format: PromptFormat | undefined,
): Scorer {
  const ratio = logRatioScorer({ tuned, untuned: reference, tunedFormat: format, untunedFormat: format });
  return {
    name: `implicit(${tuned.id})`,
    models: ratio.models,
    async score(items) {
      const scores = await ratio.score(items.map((it) => ({ ...it, finishReason: 'eos' })));
      return scores.map((s) => beta * s);
    },
  };
}

export async function openReward(spec: string, ctx: RewardContext, field = 'reward'): Promise<RewardSource> {
  const s = spec.trim();
  if (!s) throw inputError(`empty reward reference (expected ${SPEC_HELP})`, { field });
  if (s === 'length')
    return { spec: s, name: 'length (−tokens)', scorer: lengthReward(ctx.policyTokenizer), negativeTokenCount: true };
  if (s === 'sentiment' || (SENTIMENT_LEXICONS as readonly string[]).includes(s)) {
    const lexicon = s === 'sentiment' ? undefined : (s as SentimentLexicon);
    const scorer = sentimentReward({ lexicon });
    return { spec: s, name: scorer.name, scorer };
  }
  if (s.startsWith('rm:')) return rewardModel(s, s.slice(3), ctx, field);
  if (s.startsWith('dpo:')) {
    const body = s.slice(4);
    const at = body.lastIndexOf('@');
    return implicit(s, at > 0 ? body.slice(0, at) : body, at > 0 ? body.slice(at + 1) : undefined, ctx, field);
  }
  const model = await loadFor(ctx, s, field);
  return hasScalarHead(model) ? rewardModel(s, s, ctx, field) : implicit(s, s, undefined, ctx, field);
}

async function loadFor(ctx: RewardContext, ref: string, field: string): Promise<LanguageModel> {
  if (!ref) throw inputError(`a model path is missing (expected ${SPEC_HELP})`, { field });
  try {
    return await ctx.load(ref);
  } catch (e) {
    if (e instanceof AlignkitError && e.kind === 'input' && !e.where.field)
      throw new AlignkitError('input', e.message, { ...e.where, field });
    throw e;
  }
}

async function rewardModel(spec: string, ref: string, ctx: RewardContext, field: string): Promise<RewardSource> {
  const model = requireScalarHead(await loadFor(ctx, ref, field), 'reward');
  return {
    spec,
    name: `rm(${ref})`,
    fingerprint: `rm|${modelFingerprint(ref)}|${formatKey(ctx.format)}`,
    scorer: rewardModelScorer(model, ctx.format),
  };
}

async function implicit(
  spec: string,
  ref: string,
  referenceRef: string | undefined,
  ctx: RewardContext,
  field: string,
): Promise<RewardSource> {
  const refRef = referenceRef ?? ctx.sftRef;
  if (!refRef)
    throw inputError(
      `the implicit reward "${spec}" needs a reference model: write dpo:PATH@REF or give the run's SFT model`,
      { field },
    );
  const [tuned, reference] = [await loadFor(ctx, ref, field), await loadFor(ctx, refRef, field)];
  for (const m of [tuned, reference])
    if (!m.capabilities.scoring)
      throw new AlignkitError(
        'capability',
        `the implicit reward "${spec}" needs exact log-probs, and model "${m.id}" cannot score text`,
      );
  return {
    spec,
    name: `implicit(${ref})`,
    policy: ref,
    fingerprint: `dpo|${modelFingerprint(ref)}|${modelFingerprint(refRef)}|β=${ctx.beta}|${formatKey(ctx.format)}`,
    scorer: implicitReward(tuned, reference, ctx.beta, ctx.format),
  };
}

const formatKey = (format: PromptFormat | undefined) => (typeof format === 'function' ? 'fn' : (format ?? 'raw'));
