import { sendJson, type RequestContext } from './request-context.ts';
import type { ServedModel } from './served-model.ts';

/** One /v1/models entry; beside OpenAI's fields, vLLM's max_model_len and the vocabulary facts a remote client needs. */
function entry(served: ServedModel) {
  const { model } = served;
  return {
    id: served.name,
    object: 'model',
    created: served.created,
    owned_by: 'alignkit',
    max_model_len: Number.isFinite(model.capabilities.maxContext) ? model.capabilities.maxContext : null,
    vocab_size: model.tokenizer.vocabSize,
    bos_token_id: model.tokenizer.bosId,
    eos_token_id: model.tokenizer.eosId,
    guided: served.guided,
  };
}

/** GET /v1/models */
export async function listModels(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, { object: 'list', data: ctx.models.all.map(entry) });
}

/** GET /v1/models/{id} */
export async function getModel(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, entry(ctx.models.get(ctx.params.id)));
}
