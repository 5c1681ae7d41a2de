import type { LanguageModel } from '../../src/lm/language-model.ts';
import type { FaultProxy } from './fault-proxy.ts';

/**
 * Makes a proxy in front of the gateway look like SGLang to a client: a native `/generate`
 * (scoring with logprob_start_len, top-k with top_logprobs_num) computed by the real model,
 * while vLLM's echo / prompt_logprobs / return_tokens_as_token_ids are refused.
 */
export function emulateSglang(proxy: FaultProxy, model: LanguageModel): void {
  proxy.always((r) => {
    if (r.path !== '/v1/completions') return undefined;
    const b = r.body ?? {};
    return b.echo || b.prompt_logprobs !== undefined || b.return_tokens_as_token_ids
      ? { kind: 'status', status: 400, body: '{"error":{"message":"not supported here"}}' }
      : undefined;
  });
  proxy.handle('/generate', async (body) => {
    const batch = Array.isArray(body.input_ids[0]);
    const sequences: number[][] = batch ? body.input_ids : [body.input_ids];
    const starts: number[] = Array.isArray(body.logprob_start_len)
      ? body.logprob_start_len
      : sequences.map(() => body.logprob_start_len ?? -1);
    const results = await Promise.all(
      sequences.map(async (seq, i) => {
        const meta: Record<string, unknown> = { prompt_tokens: seq.length };
        if (body.return_logprob && starts[i] >= 1) {
          const [scored] = await model.score!([
            { prefix: seq.slice(0, starts[i]), continuation: seq.slice(starts[i]) },
          ]);
          meta.input_token_logprobs = scored.logprobs.map((lp, j) => [lp, scored.tokens[j], null]);
        }
        if (body.sampling_params?.max_new_tokens > 0 && body.top_logprobs_num > 0) {
          const state = await model.open!([seq]);
          const { data, vocab } = await state.nextLogprobs();
          state.close();
          const ranked = [...Array(vocab).keys()].sort((a, b) => data[b] - data[a]).slice(0, body.top_logprobs_num);
          meta.output_top_logprobs = [ranked.map((id) => [data[id], id, null])];
        }
        return { text: '', meta_info: meta };
      }),
    );
    return batch ? results : results[0];
  });
}
