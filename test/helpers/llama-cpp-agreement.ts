/**
 * alignkit and llama.cpp (node-llama-cpp, a dev dependency) on the same GGUF files: the exports of
 * stories260K and the embedded models at f32 / q8_0 / q4_0, llama.cpp opened as the comparison
 * needs it, the two engines' next-token distributions along llama.cpp's greedy path, and the mean
 * NLL of TinyStories paragraphs under each file. test/models-gguf-llama-cpp.test.ts asserts on
 * these figures; scripts/gguf-llama-cpp-table.ts writes them to a summary.json for the README.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeModel, readLocalCheckpoint } from '../../src/lm/load.ts';
import { saveGguf } from '../../src/lm/save-gguf.ts';
import type { GgufPrecision } from '../../src/models/gguf/gguf-model.ts';
import type { LanguageModel } from '../../src/lm/language-model.ts';
import { TINYSTORIES } from './stories-data.ts';

export type LlamaCpp = typeof import('node-llama-cpp');
export type Llama = Awaited<ReturnType<LlamaCpp['getLlama']>>;

export const GGUF_SOURCES = {
  stories260K: { model: 'data/stories260K/stories260K.bin', tokenizer: 'data/stories260K/tok512.bin' },
  'embedded/small': { model: 'embedded/small', tokenizer: undefined },
  'embedded/large': { model: 'embedded/large', tokenizer: undefined },
} as const;
export const GGUF_PRECISIONS = ['f32', 'q8_0', 'q4_0'] as const satisfies readonly GgufPrecision[];

/** node-llama-cpp, or null when it is not installed. */
export async function importLlamaCpp(): Promise<LlamaCpp | null> {
  try {
    return await import('node-llama-cpp');
  } catch {
    return null;
  }
}

/** llama.cpp's CPU build, as prebuilt (never built here). */
export const cpuLlama = (llamaCpp: LlamaCpp): Promise<Llama> =>
  llamaCpp.getLlama({ gpu: false, build: 'never', logLevel: llamaCpp.LlamaLogLevel.error });

/** Every source at every precision written to `dir`: "stories260K q8_0" → its file. */
export function exportGgufFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, source] of Object.entries(GGUF_SOURCES)) {
    const ckpt = readLocalCheckpoint(source.model, source.tokenizer);
    for (const precision of GGUF_PRECISIONS) {
      const file = join(dir, `${name.replace('/', '-')}-${precision}.gguf`);
      saveGguf(file, ckpt, precision);
      files.set(`${name} ${precision}`, file);
    }
  }
  return files;
}

export type LlamaCppModel = Awaited<ReturnType<typeof openLlamaCpp>>;

/**
 * llama.cpp on one file: one thread (its pool contends with Node's on 2 cores), a 256-token context,
 * a float32 KV cache and no flash attention (its defaults, a float16 cache and flash attention, move
 * log-probs by ~1e-3 on their own).
 */
export async function openLlamaCpp(llama: Llama, file: string) {
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({
    contextSize: 256,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  return {
    model,
    /** greedy continuation of `prompt` */
    async greedy(prompt: number[], n: number): Promise<number[]> {
      const sequence = context.getSequence();
      const out: number[] = [];
      for await (const token of sequence.evaluate(prompt as never[], { temperature: 0 })) {
        out.push(token as number);
        if (out.length >= n) break;
      }
      sequence.dispose();
      return out;
    },
    /** next-token probabilities after each prefix tokens[0..i] */
    async distributions(tokens: number[]): Promise<Map<number, number>[]> {
      const sequence = context.getSequence();
      const results = await sequence.controlledEvaluate(
        tokens.map((t) => [t as never, { generateNext: { probabilities: true } }] as const),
      );
      sequence.dispose();
      return results.map((r) => r!.next.probabilities as Map<number, number>);
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/** alignkit's next-token log-probs after each prefix tokens[0..i]. */
async function alignkitDistributions(model: LanguageModel, tokens: number[]): Promise<Float32Array[]> {
  const state = await model.open!([tokens.slice(0, 1)]);
  const out: Float32Array[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const { data } = await state.nextLogprobs();
    out.push(data.slice());
    if (i + 1 < tokens.length) await state.append([[tokens[i + 1]]]);
  }
  state.close();
  return out;
}

export interface Agreement {
  /** the prompt's tokens and llama.cpp's greedy continuation of it */
  prompt: number[];
  greedy: number[];
  /** positions of the path where both engines' most likely next token is the same */
  sameArgmax: number;
  positions: number;
  /** |Δ log p| over llama.cpp's five most likely tokens at every position */
  meanDelta: number;
  maxDelta: number;
}

/** Both engines teacher-forced along llama.cpp's greedy continuation of `text`, every next-token distribution compared. */
export async function agreement(
  ours: LanguageModel,
  theirs: LlamaCppModel,
  text = 'Once upon a time, there was a',
  newTokens = 40,
): Promise<Agreement> {
  const prompt = ours.tokenizer.encode(text);
  const greedy = await theirs.greedy(prompt, newTokens);
  const path = [...prompt, ...greedy];
  const expected = await theirs.distributions(path);
  const got = await alignkitDistributions(ours, path);
  let sameArgmax = 0;
  let sumDelta = 0;
  let maxDelta = 0;
  let count = 0;
  for (let i = 0; i < path.length; i++) {
    const [top] = expected[i].keys();
    if (got[i].indexOf(Math.max(...got[i])) === top) sameArgmax++;
    for (const [token, p] of [...expected[i]].slice(0, 5)) {
      const delta = Math.abs(Math.log(p) - got[i][token]);
      sumDelta += delta;
      maxDelta = Math.max(maxDelta, delta);
      count++;
    }
  }
  return { prompt, greedy, sameArgmax, positions: path.length, meanDelta: sumDelta / count, maxDelta };
}

export const tinyStoriesParagraphs = () => readFileSync(TINYSTORIES, 'utf8').split('\n').filter(Boolean);

/** Mean NLL (nats/token) of `paragraphs` (each from BOS, cut at 255 tokens) under alignkit's reading of `file`. */
export async function meanNll(file: string, paragraphs: readonly string[]): Promise<number> {
  const model = await loadNativeModel(file);
  try {
    let total = 0;
    let tokens = 0;
    for (let i = 0; i < paragraphs.length; i += 32) {
      const items = paragraphs.slice(i, i + 32).map((text) => ({
        prefix: [model.tokenizer.bosId!],
        continuation: model.tokenizer.encode(text, { addBos: false }).slice(0, 255),
      }));
      for (const s of await model.score!(items)) {
        total -= s.total;
        tokens += s.tokens.length;
      }
    }
    return total / tokens;
  } finally {
    await model.dispose();
  }
}
