import type { LanguageModel } from '../lm/language-model.ts';
import { AlignkitError } from '../errors.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
import { promptTokens, responseTokens } from '../lm/response-tokens.ts';
import type { ScoreInput } from './scorer.ts';

/** A reward or value model (built by `alignkit train rm|value`): a LanguageModel that has its scalar head. */
export type ScalarHeadModel = LanguageModel & Required<Pick<LanguageModel, 'scalarHead'>>;

export function hasScalarHead(model: LanguageModel): model is ScalarHeadModel {
  return model.scalarHead !== undefined;
}

export function requireScalarHead(model: LanguageModel, role: string): ScalarHeadModel {
  if (!hasScalarHead(model))
    throw new AlignkitError(
      'capability',
      `the ${role} model "${model.id}" has no scalar head; expected a model trained by \`alignkit train ${role === 'value' ? 'value' : 'rm'}\``,
    );
  return model;
}

/** Scalar-head outputs for prompt (in the model's format) + response, EOS appended once the response finished with it. */
export async function scalarHeadScores(
  model: ScalarHeadModel,
  format: PromptFormat | undefined,
  items: readonly ScoreInput[],
): Promise<number[]> {
  const sequences = items.map((item) => {
    const prompt = renderPrompt(format, item.prompt, model.tokenizer);
    const t = responseTokens(model.tokenizer, prompt, promptTokens(model.tokenizer, prompt), item.response, {
      finished: true,
      eos: item.finishReason === 'eos',
    });
    if (t.ids.length > model.capabilities.maxContext)
      throw new AlignkitError(
        'input',
        `prompt + response is ${t.ids.length} tokens for model "${model.id}", over its context of ${model.capabilities.maxContext}`,
      );
    return t.ids;
  });
  return sequences.length ? model.scalarHead(sequences) : [];
}
