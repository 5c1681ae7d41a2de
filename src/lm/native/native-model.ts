/**
 * The native backend: a model run in-process by the engine. Full next-token distributions,
 * exact scoring, hidden states, and KV-cached decode states with fork.
 */
import type {
  Capabilities,
  HiddenRequest,
  LanguageModel,
  OpenOptions,
  Prompt,
  Sample,
  SampleRequest,
  ScoreItem,
  TokenLogprobs,
  Usage,
} from '../language-model.ts';
import { emptyUsage } from '../language-model.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { QuantizedWeights, Weights } from '../../models/weights.ts';
import type { QuantizedMatmulOptions } from '../../engine/quantized-matmul.ts';
import { NativeRuntime, type RuntimeOptions } from './runtime.ts';
import { NativeDecodeState } from './native-decode-state.ts';
import { sampleToken } from '../sampling.ts';
import { StreamingText } from '../../tokenizers/streaming-text.ts';
import { createRng } from '../../util/random.ts';
import { ContextLengthError, inputError } from '../../errors.ts';
import { SCORE_HEAD } from '../../models/inference-graphs.ts';
import { stepBiases } from './attention-bias.ts';

/** Token budget of one scoring batch (rows × padded length). */
const SCORE_BATCH_TOKENS = 4096;

export class NativeModel implements LanguageModel {
  readonly capabilities: Capabilities;
  readonly usage: Usage = emptyUsage();
  /** the config's EOS ids (several for some chat models) and the tokenizer's */
  readonly eosIds: readonly number[];

  /**
   * Reward and value models (a `score.weight` head) have this: the head read at the last token
   * of each sequence. Absent on plain language models, so `hasScalarHead()` tells them apart.
   */
  readonly scalarHead?: (sequences: readonly (readonly number[])[]) => Promise<number[]>;

  /** hidden states exist at layers 0..numLayers */
  get numLayers(): number {
    return this.config.numLayers;
  }

  private constructor(
    readonly id: string,
    readonly tokenizer: Tokenizer,
    readonly config: ModelConfig,
    private readonly rt: NativeRuntime,
    hasScalarHead: boolean,
  ) {
    if (hasScalarHead) this.scalarHead = (sequences) => this.runScalarHead(sequences);
    const configured = config.eosTokenId;
    const eos = new Set(Array.isArray(configured) ? configured : configured === null ? [] : [configured]);
    if (tokenizer.eosId !== null) eos.add(tokenizer.eosId);
    this.eosIds = [...eos];
    this.capabilities = {
      fullLogits: true,
      topLogprobs: config.vocabSize,
      scoring: true,
      hiddenStates: true,
      tokenIds: true,
      maxContext: config.maxPositions,
    };
  }

  /**
   * With `consumeWeights`, `weights` (and `quantized`) are emptied once the engine has what it
   * needs (saves memory). Matrices in `quantized` run onnxruntime's quantized kernels.
   */
  static async create(
    id: string,
    config: ModelConfig,
    weights: Weights,
    tokenizer: Tokenizer,
    options: {
      consumeWeights?: boolean;
      quantized?: QuantizedWeights;
      quantizedMatmul?: QuantizedMatmulOptions;
    } & RuntimeOptions = {},
  ): Promise<NativeModel> {
    const hasHead = weights.has(SCORE_HEAD);
    return new NativeModel(
      id,
      tokenizer,
      config,
      await NativeRuntime.create(config, weights, id, options.consumeWeights, {
        graph: options.graph,
        runtime: options.runtime,
        quantized: options.quantized,
        matmul: options.quantizedMatmul,
      }),
      hasHead,
    );
  }

  /** What loading decided that a user should hear once (e.g. a graph flavour that fell back to standard). */
  get engineNotes(): readonly string[] {
    return this.rt.notes;
  }

  /** The graph flavour the model runs in. */
  get graphFlavour(): RuntimeOptions['graph'] {
    return this.rt.graph;
  }

  /** What runs its steps: onnxruntime, or the WebAssembly kernel of small models. */
  get stepRuntime(): 'onnxruntime' | 'wasm' {
    return this.rt.runtime;
  }

  /** Token ids of a prompt; text is encoded with BOS (when the tokenizer uses one). */
  promptIds(prompt: Prompt, what = 'prompt'): number[] {
    const ids = typeof prompt === 'string' ? this.tokenizer.encode(prompt, { addBos: true }) : [...prompt];
    if (ids.length === 0) throw inputError(`${what} is empty and the tokenizer has no BOS token to start from`);
    if (ids.length >= this.config.maxPositions)
      throw new ContextLengthError(
        `${what} has ${ids.length} tokens; the model's context is ${this.config.maxPositions}`,
      );
    return ids;
  }

  /**
   * Token ids of a scoring item. Text continuations are tokenized together with their prefix and
   * split where the prefix's own tokens end, so the continuation gets the tokens it would have in
   * context (SentencePiece's dummy leading space and merges across the boundary otherwise skew
   * the scores).
   */
  private splitItem(item: ScoreItem, index: number): { prefix: number[]; cont: number[] } {
    const prefix = this.promptIds(item.prefix, `prefix of item ${index}`);
    if (typeof item.continuation !== 'string') return { prefix, cont: [...item.continuation] };
    if (typeof item.prefix !== 'string')
      return { prefix, cont: this.tokenizer.encode(item.continuation, { addBos: false }) };
    const whole = this.tokenizer.encode(item.prefix + item.continuation, { addBos: true });
    let shared = 0;
    while (shared < prefix.length && whole[shared] === prefix[shared]) shared++;
    return { prefix: whole.slice(0, Math.max(shared, 1)), cont: whole.slice(Math.max(shared, 1)) };
  }

  async open(prefixes: readonly (readonly number[])[], options: OpenOptions = {}): Promise<NativeDecodeState> {
    if (prefixes.length === 0) throw inputError('open() needs at least one prefix');
    prefixes.forEach((p, i) => {
      if (p.length === 0) throw inputError(`prefix ${i} is empty: start it with BOS`);
    });
    const state = NativeDecodeState.empty(this.rt, this.usage, prefixes.length, this.scalarHead !== undefined);
    const layers = options.hiddenLayers ?? [];
    this.checkLayers(layers);
    const { lastHidden } = await state.appendChunks(prefixes, layers, false);
    this.usage.promptTokens += prefixes.reduce((a, p) => a + p.length, 0);
    if (layers.length) state.prefixHidden = lastHidden;
    return state;
  }

  async sample(req: SampleRequest): Promise<Sample[]> {
    const n = req.n ?? 1;
    const prompt = this.promptIds(req.prompt);
    const budget = Math.min(req.maxNewTokens, this.config.maxPositions - prompt.length);
    const rng = createRng(req.seed ?? (Math.random() * 2 ** 31) | 0);
    const eos = new Set(this.eosIds);
    const base = await this.open([prompt]);
    let state = base.fork(new Array(n).fill(0));
    base.close();
    state.reserve(budget);
    const stops = (req.stop ?? []).filter((s) => s.length > 0);
    // with stop strings the text is kept per token, incrementally; without, decoded once at the end
    const out: { tokens: number[]; logprobs: number[]; finish: Sample['finishReason'] | null; text?: StreamingText }[] =
      Array.from({ length: n }, () => ({
        tokens: [],
        logprobs: [],
        finish: null,
        text: stops.length ? new StreamingText(this.tokenizer, stops) : undefined,
      }));
    let active = Array.from({ length: n }, (_, i) => i);
    for (let step = 0; step < budget && active.length; step++) {
      const lp = await state.nextLogprobs();
      const chosen = active.map((_, row) => sampleToken(lp.data, row * lp.vocab, lp.vocab, req, rng.next));
      const stillActive: number[] = [];
      const keepRows: number[] = [];
      chosen.forEach((tok, row) => {
        const o = out[active[row]];
        if (eos.has(tok)) {
          o.finish = 'eos';
          return;
        }
        o.tokens.push(tok);
        o.logprobs.push(lp.data[row * lp.vocab + tok]);
        if (o.text) {
          o.text.push(tok);
          if (o.text.stopped) {
            o.finish = 'stop';
            return;
          }
        }
        stillActive.push(active[row]);
        keepRows.push(row);
      });
      if (keepRows.length && step + 1 < budget) {
        if (keepRows.length < active.length) {
          const forked = state.fork(keepRows);
          state.close();
          state = forked;
        }
        await state.append(keepRows.map((row) => [chosen[row]]));
      }
      active = stillActive;
    }
    state.close();
    this.usage.generatedTokens += out.reduce((a, o) => a + o.tokens.length, 0);
    return out.map((o) => ({
      text: o.text ? o.text.peek() : this.tokenizer.decode(o.tokens),
      tokens: o.tokens,
      finishReason: o.finish ?? 'length',
      ...(req.logprobs ? { logprobs: o.logprobs } : {}),
    }));
  }

  async score(items: readonly ScoreItem[]): Promise<TokenLogprobs[]> {
    const seqs = items.map((it, i) => {
      const { prefix, cont } = this.splitItem(it, i);
      if (prefix.length + cont.length > this.config.maxPositions)
        throw inputError(
          `item ${i}: prefix + continuation is ${prefix.length + cont.length} tokens; the model's context is ${this.config.maxPositions}`,
        );
      return { prefix, cont, index: i };
    });
    const results: TokenLogprobs[] = new Array(items.length);
    const order = [...seqs].sort((a, b) => b.prefix.length + b.cont.length - (a.prefix.length + a.cont.length));
    for (let start = 0; start < order.length;) {
      const T = order[start].prefix.length + order[start].cont.length;
      const size = Math.max(1, Math.min(order.length - start, Math.floor(SCORE_BATCH_TOKENS / Math.max(T, 1))));
      const batch = order.slice(start, start + size);
      start += size;
      const lps = await this.scoreBatch(
        batch.map((s) => [...s.prefix, ...s.cont]),
        batch.map((s) => s.prefix.length),
      );
      batch.forEach((s, i) => {
        const logprobs = lps[i];
        results[s.index] = { tokens: s.cont, logprobs, total: logprobs.reduce((a, b) => a + b, 0) };
      });
    }
    return results;
  }

  /** Log-probs of tokens [from, len) of each full sequence, one prefill per batch, no cache kept. */
  private async scoreBatch(seqs: number[][], from: number[]): Promise<number[][]> {
    const batch = this.prefillBatch(seqs);
    const scoreRows: number[] = [];
    const targets: number[] = [];
    seqs.forEach((s, b) => {
      for (let i = from[b]; i < s.length; i++) {
        scoreRows.push(b * batch.length + i - 1);
        targets.push(s[i]);
      }
    });
    const step = await this.rt.run({ ...batch, scoreRows, targets, fetchNewKv: false });
    const out: number[][] = [];
    let r = 0;
    seqs.forEach((s, b) => {
      const lp: number[] = [];
      for (let i = from[b]; i < s.length; i++) lp.push(step.targetLogprobs[r++]);
      out.push(lp);
    });
    return out;
  }

  /** Right-padded inputs for running whole sequences from an empty cache. */
  private prefillBatch(seqs: readonly (readonly number[])[]) {
    const B = seqs.length;
    const T = Math.max(...seqs.map((s) => s.length));
    const ids = new Array<number>(B * T).fill(0);
    const positions = new Array<number>(B * T).fill(0);
    seqs.forEach((s, b) =>
      s.forEach((t, i) => {
        ids[b * T + i] = t;
        positions[b * T + i] = i;
      }),
    );
    const biases = stepBiases(
      this.rt.windows,
      seqs.map(() => new Uint8Array(0)),
      0,
      seqs.map((s) => s.length),
      T,
      seqs.map(() => 0),
    );
    this.usage.processedTokens += seqs.reduce((a, s) => a + s.length, 0);
    return { ids, positions, biases, batch: B, length: T, cache: this.rt.emptyCache(B) };
  }

  async hiddenStates(req: HiddenRequest): Promise<Float32Array[]> {
    this.checkLayers(req.layers);
    const seqs = req.sequences.map((s, i) => this.promptIds(s, `sequence ${i}`));
    const positions = req.positions ?? seqs.map((s) => s.length - 1);
    positions.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 0 || p >= seqs[i].length)
        throw inputError(`position ${p} is outside sequence ${i} (length ${seqs[i].length})`);
    });
    const batch = this.prefillBatch(seqs);
    const step = await this.rt.run({ ...batch, fetchNewKv: false, layers: req.layers });
    const D = this.config.hiddenSize;
    const T = batch.length;
    return req.layers.map((l) => {
      const src = step.layers.get(l)!;
      const out = new Float32Array(seqs.length * D);
      positions.forEach((p, b) => out.set(src.subarray((b * T + p) * D, (b * T + p + 1) * D), b * D));
      return out;
    });
  }

  private async runScalarHead(sequences: readonly (readonly number[])[]): Promise<number[]> {
    const out: number[] = [];
    const longest = Math.max(1, ...sequences.map((s) => s.length));
    const size = Math.max(1, Math.floor(SCORE_BATCH_TOKENS / longest));
    for (let start = 0; start < sequences.length;) {
      const seqs = sequences.slice(start, start + size).map((s, i) => this.promptIds(s, `sequence ${start + i}`));
      start += seqs.length;
      const batch = this.prefillBatch(seqs);
      const step = await this.rt.run({
        ...batch,
        nextRows: seqs.map((s, b) => b * batch.length + s.length - 1),
        fetchNewKv: false,
        fetchScalar: true,
      });
      out.push(...step.scalar!);
    }
    return out;
  }

  private checkLayers(layers: readonly number[]): void {
    for (const l of layers)
      if (!Number.isInteger(l) || l < 0 || l > this.config.numLayers)
        throw inputError(`layer ${l} does not exist (0..${this.config.numLayers}; 0 = embeddings)`, {
          field: 'layers',
        });
  }

  async prepare(): Promise<void> {
    await this.rt.prepare();
  }

  async dispose(): Promise<void> {
    await this.rt.release();
  }
}
