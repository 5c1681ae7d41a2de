import type { DecodeState, LogprobMatrix } from '../language-model.ts';
import { missingCapability, type ServerCapabilities } from './capabilities.ts';
import { SCORING_PROVIDERS, scoreIds } from './scoring.ts';
import type { HttpTransport } from './transport.ts';

export const TOP_K_PROVIDERS =
  'top-k logprobs with token ids: logprobs + return_tokens_as_token_ids (vLLM) or top_logprobs_num on /generate (SGLang)';

/** Top-k next-token log-probs of one sequence: token id → log-prob. */
type TopRow = Map<number, number>;

export interface HttpDecodeContext {
  transport: HttpTransport;
  model: string;
  caps: ServerCapabilities;
  vocabSize: number;
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function rowsFromCompletions(response: any, count: number): TopRow[] {
  const choices = [...(response?.choices ?? [])].sort((a, b) => a.index - b.index);
  expect(choices.length === count, `expected ${count} choices, got ${choices.length}`);
  return choices.map((choice, i) => {
    const top = choice?.logprobs?.top_logprobs?.[0];
    expect(top && typeof top === 'object', `choice ${i} has no top_logprobs`);
    const row: TopRow = new Map();
    for (const [key, lp] of Object.entries(top)) {
      const id = /^token_id:(\d+)$/.exec(key);
      expect(id && typeof lp === 'number', `choice ${i}: top_logprobs key "${key}" is not "token_id:N" with a number`);
      row.set(Number(id[1]), lp);
    }
    return row;
  });
}

function rowsFromSglang(response: any, count: number): TopRow[] {
  const results = Array.isArray(response) ? response : [response];
  expect(results.length === count, `expected ${count} results, got ${results.length}`);
  return results.map((result, i) => {
    const top = result?.meta_info?.output_top_logprobs?.[0];
    expect(Array.isArray(top), `result ${i} has no output_top_logprobs`);
    return new Map(top.map(([lp, id]: [number, number]) => [id, lp]));
  });
}

/**
 * Token-by-token decoding over HTTP. The server keeps no state between requests (its prefix
 * cache makes the repeated prefixes cheap); this object holds the token sequences. Next-token
 * rows hold the server's top-k log-probs and -Infinity elsewhere.
 */
export class HttpDecodeState implements DecodeState {
  private constructor(
    private readonly ctx: HttpDecodeContext,
    private readonly sequences: number[][],
    private readonly rows: (TopRow | undefined)[],
  ) {}

  static open(ctx: HttpDecodeContext, prefixes: readonly (readonly number[])[]): HttpDecodeState {
    if (ctx.caps.topLogprobs <= 0 || !ctx.caps.tokenIdPrompts)
      throw missingCapability('token-by-token decoding', TOP_K_PROVIDERS, ctx.transport.urls.apiBase);
    if (ctx.vocabSize <= 0) {
      throw missingCapability(
        'token-by-token decoding (the vocabulary size)',
        'a server that lists vocab_size with its models (alignkit serve) or a local tokenizer given with --tokenizer PATH',
        ctx.transport.urls.apiBase,
      );
    }
    return new HttpDecodeState(
      ctx,
      prefixes.map((p) => [...p]),
      prefixes.map(() => undefined),
    );
  }

  get size(): number {
    return this.sequences.length;
  }

  tokens(index: number): readonly number[] {
    return this.sequences[index];
  }

  async nextLogprobs(): Promise<LogprobMatrix> {
    const missing = this.rows.flatMap((row, i) => (row ? [] : [i]));
    if (missing.length) {
      const fetched = await this.fetchTopRows(missing.map((i) => this.sequences[i]));
      missing.forEach((seq, j) => (this.rows[seq] = fetched[j]));
    }
    const vocab = this.ctx.vocabSize;
    const data = new Float32Array(this.size * vocab).fill(-Infinity);
    this.rows.forEach((row, i) => {
      for (const [id, lp] of row!) if (id < vocab) data[i * vocab + id] = lp;
    });
    return { rows: this.size, vocab, data };
  }

  private async fetchTopRows(sequences: number[][]): Promise<TopRow[]> {
    const { transport, model, caps } = this.ctx;
    const k = caps.topLogprobs;
    if (caps.topLogprobsRoute === 'sglang-generate') {
      const validate = (r: unknown) => void rowsFromSglang(r, sequences.length);
      const response = await transport.postRoot(
        '/generate',
        {
          input_ids: sequences,
          sampling_params: { max_new_tokens: 1, temperature: 1 },
          return_logprob: true,
          top_logprobs_num: k,
          logprob_start_len: sequences.map((s) => s.length - 1),
        },
        { validate },
      );
      return rowsFromSglang(response, sequences.length);
    }
    const validate = (r: unknown) => void rowsFromCompletions(r, sequences.length);
    const response = await transport.completions(
      { model, prompt: sequences, max_tokens: 1, temperature: 0, logprobs: k, return_tokens_as_token_ids: true },
      { validate },
    );
    return rowsFromCompletions(response, sequences.length);
  }

  async append(chunks: readonly (readonly number[])[]): Promise<number[][]> {
    if (chunks.length !== this.size) throw new RangeError(`append: expected ${this.size} chunks, got ${chunks.length}`);
    const result: number[][] = chunks.map(() => []);
    const toScore: { seq: number; prefix: number[]; continuation: number[] }[] = [];
    chunks.forEach((chunk, i) => {
      if (chunk.length === 0) return;
      const known = chunk.length === 1 ? this.rows[i]?.get(chunk[0]) : undefined;
      if (known !== undefined) result[i] = [known];
      else toScore.push({ seq: i, prefix: this.sequences[i], continuation: [...chunk] });
    });
    if (toScore.length) {
      const { transport, model, caps } = this.ctx;
      if (!caps.scoring) {
        throw missingCapability(
          'appending tokens outside the top-k (their log-probs)',
          SCORING_PROVIDERS,
          transport.urls.apiBase,
        );
      }
      const scored = await scoreIds(transport, model, caps, toScore);
      toScore.forEach(({ seq }, j) => (result[seq] = scored[j].logprobs));
    }
    chunks.forEach((chunk, i) => {
      if (chunk.length === 0) return;
      this.sequences[i].push(...chunk);
      this.rows[i] = undefined;
    });
    return result;
  }

  fork(indices: readonly number[]): DecodeState {
    return new HttpDecodeState(
      this.ctx,
      indices.map((i) => [...this.sequences[i]]),
      indices.map((i) => this.rows[i]),
    );
  }

  close(): void {
    // nothing is held on the server
  }
}
