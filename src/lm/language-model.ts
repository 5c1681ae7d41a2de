/**
 * The LanguageModel interface (DESIGN.md "lm/"). decode/, probe/, eval/ and serve/ see
 * models only through this; each backend declares what it can do in `capabilities`.
 */
import { AlignkitError } from '../errors.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';

/** What a backend can do (methods that need more refuse it by name). */
export interface Capabilities {
  /** next-token log-probs over the whole vocabulary (DecodeState.nextLogprobs) */
  fullLogits: boolean;
  /** how many top next-token log-probs the backend can return (0 = none) */
  topLogprobs: number;
  /** exact log p(continuation | prefix) per token */
  scoring: boolean;
  hiddenStates: boolean;
  /** prompts may be given as token ids (otherwise text only) */
  tokenIds: boolean;
  /** tokens of context: prompt and response together */
  maxContext: number;
}

/** A prompt as text, or as token ids (ids need capabilities.tokenIds). */
export type Prompt = string | readonly number[];

/** What `LanguageModel.sample` generates. */
export interface SampleRequest {
  /** the text (or token ids) to continue */
  prompt: Prompt;
  /** number of continuations (default 1) */
  n?: number;
  /** response tokens at most */
  maxNewTokens: number;
  /** 0 = greedy (default 1) */
  temperature?: number;
  /** nucleus sampling (default 1 = off) */
  topP?: number;
  /** top-k sampling (default 0 = off) */
  topK?: number;
  /** strings that end a response (cut before them) */
  stop?: readonly string[];
  /** sampling seed: same seed, same model, same request → same sample on the native backend */
  seed?: number;
  /** also return the log-prob of each sampled token under the sampling distribution's model */
  logprobs?: boolean;
  /**
   * Called, where a backend knows it, with the part of choice `choice`'s text that can no longer
   * change, each time it grows (a guided model's search: what all its kept beams share). Other
   * backends never call it; the text arrives with the result.
   */
  onSettledText?: (choice: number, text: string) => void;
}

/** Why a response ended: the model's end token, a stop string, or the token limit. */
export type FinishReason = 'eos' | 'stop' | 'length';

/** One sampled continuation. */
export interface Sample {
  /** its text (cut before a stop string) */
  text: string;
  /** token ids of the continuation (empty when the backend cannot say) */
  tokens: number[];
  /** why it ended */
  finishReason: FinishReason;
  /** log-prob of each token under the model (temperature 1), when requested */
  logprobs?: number[];
}

/** A continuation to score after its prefix. */
export interface ScoreItem {
  /** the context (not scored) */
  prefix: Prompt;
  /** the scored tokens */
  continuation: Prompt;
}

/** log p(continuation | prefix), token by token. */
export interface TokenLogprobs {
  /** ids of the continuation tokens */
  tokens: number[];
  /** log p(token_i | prefix, tokens_<i), one per token */
  logprobs: number[];
  /** their sum */
  total: number;
}

/** next-token log-probs of `rows` sequences over a vocabulary, row-major [rows, vocab] */
export interface LogprobMatrix {
  rows: number;
  vocab: number;
  data: Float32Array;
}

/**
 * A batch of KV-cached sequences for token-by-token work. Sequence i of a state is addressed
 * by its index; fork() makes a new state from chosen sequences (beam reordering) without
 * recomputing anything.
 */
export interface DecodeState {
  readonly size: number;
  /** tokens of each sequence so far (prefix + appended) */
  tokens(index: number): readonly number[];
  /** next-token log-probs (full vocabulary) of every sequence */
  nextLogprobs(): Promise<LogprobMatrix>;
  /**
   * Appends chunks (one per sequence, lengths may differ, may be empty) and returns the
   * log-prob of each appended token given everything before it.
   */
  append(chunks: readonly (readonly number[])[]): Promise<number[][]>;
  /** New state whose sequence i copies this state's sequence indices[i]. */
  fork(indices: readonly number[]): DecodeState;
  /**
   * New state holding this state's sequences followed by `other`'s (same model), without
   * recomputation: how a continuous batcher lets new requests join a running batch.
   */
  concat?(other: DecodeState): DecodeState;
  /**
   * Reward and value models (a scalar head): the head's output at each sequence's last token,
   * NaN for a sequence with no tokens. Absent on other models.
   */
  readonly scalars?: () => number[];
  /** Frees the cache. */
  close(): void;
  /** Hidden states at the last prefix position, per requested layer, [size, hiddenSize] each. */
  readonly prefixHidden?: Float32Array[];
}

export interface OpenOptions {
  /** layers whose hidden state at the last prefix token is returned in `prefixHidden` (0 = embeddings) */
  hiddenLayers?: readonly number[];
}

export interface HiddenRequest {
  sequences: readonly (readonly number[])[];
  /** layer indices, 0 = embedding output, L = after the last block (before the final norm) */
  layers: readonly number[];
  /** one position per sequence; default: its last token */
  positions?: readonly number[];
}

/** Counts of work done, for reporting compute (tokens processed by each model). */
export interface Usage {
  promptTokens: number;
  generatedTokens: number;
  /** total tokens run through the model's forward passes */
  processedTokens: number;
}

/** Capabilities a backend may lack, named in errors (with what would provide them). */
export type OptionalCapability = 'scoring' | 'decoding';

/** A model every algorithm runs on: native (in-process) or OpenAI-compatible (HTTP), declaring its capabilities. */
export interface LanguageModel {
  /** the reference it was loaded from */
  readonly id: string;
  readonly tokenizer: Tokenizer;
  readonly capabilities: Capabilities;
  /** tokens it has processed so far */
  readonly usage: Usage;
  /** token ids that end a sequence: the model's configured EOS ids and the tokenizer's (empty when none is known) */
  readonly eosIds: readonly number[];
  /** with `hiddenStates`: hidden states exist at layers 0..numLayers (0 = the embeddings) */
  readonly numLayers?: number;
  /** `req.n` continuations of a prompt */
  sample(req: SampleRequest): Promise<Sample[]>;
  /** exact log p(continuation | prefix); present when capabilities.scoring */
  score?(items: readonly ScoreItem[]): Promise<TokenLogprobs[]>;
  /**
   * KV-cached decode states; present when the backend keeps them (full next-token log-probs when
   * capabilities.fullLogits, a server's top-k rows otherwise)
   */
  open?(prefixes: readonly (readonly number[])[], options?: OpenOptions): Promise<DecodeState>;
  /** Needs capabilities.hiddenStates; per layer, [sequences, hiddenSize]. */
  hiddenStates?(req: HiddenRequest): Promise<Float32Array[]>;
  /** Reward and value models (`train rm|value`): the scalar head at each sequence's last token. */
  scalarHead?(sequences: readonly (readonly number[])[]): Promise<number[]>;
  /** for a capability the backend lacks: what would provide it (a server feature, a model kind) */
  readonly missing?: Partial<Record<OptionalCapability, string>>;
  /**
   * Builds now what later requests may need and would otherwise build on first use (a native
   * model's onnxruntime session behind its WebAssembly kernel): a server calls it before it listens.
   */
  prepare?(): Promise<void>;
  /** Frees sessions and connections. */
  dispose(): Promise<void>;
}

function capabilityError(model: LanguageModel, capability: OptionalCapability, what: string, purpose: string) {
  const hint = model.missing?.[capability];
  return new AlignkitError(
    'capability',
    `${purpose} needs ${what} from model "${model.id}"${hint ? `: ${hint}` : ', which it cannot give'}`,
  );
}

/** The model's scoring, or a capability error naming the model, the purpose and what would provide it. */
export function requireScoring(model: LanguageModel, purpose: string): NonNullable<LanguageModel['score']> {
  if (!model.score) throw capabilityError(model, 'scoring', 'exact token log-probs (scoring)', purpose);
  return model.score.bind(model);
}

/** The model's decode states, or a capability error naming the model, the purpose and what would provide them. */
export function requireDecoding(model: LanguageModel, purpose: string): NonNullable<LanguageModel['open']> {
  if (!model.open) throw capabilityError(model, 'decoding', 'token-by-token decode states', purpose);
  return model.open.bind(model);
}

export const emptyUsage = (): Usage => ({ promptTokens: 0, generatedTokens: 0, processedTokens: 0 });
