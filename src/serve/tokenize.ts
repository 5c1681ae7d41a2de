import { badRequest } from './errors.ts';
import { chatPromptIds, checkPromptChars } from './prompt-encoding.ts';
import { sendJson, type RequestContext } from './request-context.ts';

const maxModelLen = (n: number) => (Number.isFinite(n) ? n : null);

/** POST /tokenize (vLLM's shape): {model, prompt} or {model, messages} → {tokens, count, max_model_len}. */
export async function tokenize(ctx: RequestContext): Promise<void> {
  const { body: fields } = ctx;
  const served = ctx.models.get(fields.string('model'));
  const { tokenizer } = served.model;
  let tokens: number[];
  if (fields.has('messages')) {
    const raw = fields.raw('messages');
    if (!Array.isArray(raw) || raw.some((m) => !m || typeof m.role !== 'string' || typeof m.content !== 'string')) {
      throw badRequest('"messages" must be a list of {role, content} with string content', 'messages');
    }
    checkPromptChars(
      served,
      raw.reduce((sum, m) => sum + m.content.length, 0),
      'messages',
    );
    const text = tokenizer.applyChatTemplate(raw, { addGenerationPrompt: fields.bool('add_generation_prompt', true) });
    tokens = fields.bool('add_special_tokens', false)
      ? chatPromptIds(served, raw)
      : tokenizer.encode(text, { addBos: false });
  } else {
    const prompt = fields.requiredString('prompt');
    checkPromptChars(served, prompt.length, 'prompt');
    tokens = tokenizer.encode(prompt, { addBos: fields.bool('add_special_tokens', true) });
  }
  const out: Record<string, unknown> = {
    tokens,
    count: tokens.length,
    max_model_len: maxModelLen(served.model.capabilities.maxContext),
  };
  if (fields.bool('return_token_strs', false))
    out.token_strs = tokens.map((id) => tokenizer.decode([id], { skipSpecial: false }));
  sendJson(ctx.res, 200, out);
}

/** POST /detokenize: {model, tokens} → {prompt} */
export async function detokenize(ctx: RequestContext): Promise<void> {
  const { body: fields } = ctx;
  const served = ctx.models.get(fields.string('model'));
  const tokens = fields.raw('tokens');
  const vocab = served.model.tokenizer.vocabSize;
  if (!Array.isArray(tokens) || tokens.some((t) => !Number.isInteger(t) || t < 0 || (vocab > 0 && t >= vocab))) {
    throw badRequest(`"tokens" must be a list of token ids in 0..${vocab - 1}`, 'tokens');
  }
  const skipSpecial = fields.bool('skip_special_tokens', true);
  sendJson(ctx.res, 200, { prompt: served.model.tokenizer.decode(tokens, { skipSpecial }) });
}
