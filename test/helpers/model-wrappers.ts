/**
 * Test-only wrappers around a real LanguageModel that inject a backend difference: a model
 * reachable only through text sampling (like a black-box API), and a model whose vocabulary
 * assigns different ids to the same pieces (a different tokenizer).
 */
import { AlignkitError } from '../../src/errors.ts';
import {
  requireDecoding,
  requireScoring,
  type DecodeState,
  type LanguageModel,
  type LogprobMatrix,
  type Prompt,
} from '../../src/lm/language-model.ts';
import { loadModel } from '../../src/lm/load.ts';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.ts';
import { createRng } from '../../src/util/random.ts';

export const STORIES = 'data/stories260K/stories260K.bin';
export const STORIES_TOKENIZER = 'data/stories260K/tok512.bin';
export const loadStories = () => loadModel(STORIES, { tokenizer: STORIES_TOKENIZER });

/** The model as a black box: text prompts in, sampled text out (no ids, no log-probs, no scoring, no decode states). */
export function textOnly(model: LanguageModel): LanguageModel {
  const refuse = () => {
    throw new AlignkitError('capability', 'text-only test model');
  };
  return {
    eosIds: model.eosIds,
    id: `${model.id} (text only)`,
    tokenizer: model.tokenizer,
    capabilities: {
      ...model.capabilities,
      fullLogits: false,
      tokenIds: false,
      scoring: false,
      topLogprobs: 0,
      hiddenStates: false,
    },
    get usage() {
      return model.usage;
    },
    async sample(req) {
      if (typeof req.prompt !== 'string') refuse();
      return (await model.sample(req)).map((s) => ({ ...s, tokens: [] }));
    },
    dispose: () => model.dispose(),
  };
}

/** The same model with its ids shuffled (special ids kept): same text behaviour, a different token→id map. */
export function permutedVocabulary(model: LanguageModel, seed = 1): LanguageModel {
  const V = model.tokenizer.vocabSize;
  const rest = Array.from({ length: V - 3 }, (_, i) => i + 3);
  const perm = [0, 1, 2, ...createRng(seed).shuffle(rest)]; // old id -> new id
  const inv = new Array<number>(V);
  perm.forEach((to, from) => {
    inv[to] = from;
  });
  const toNew = (ids: readonly number[]) => ids.map((i) => perm[i]);
  const toOld = (ids: readonly number[]) => ids.map((i) => inv[i]);
  const mapPrompt = (p: Prompt): Prompt => (typeof p === 'string' ? p : toOld(p));
  const t = model.tokenizer;
  const tokenizer: Tokenizer = {
    vocabSize: V,
    bosId: t.bosId,
    eosId: t.eosId,
    padId: t.padId,
    hasChatTemplate: t.hasChatTemplate,
    encode: (text, o) => toNew(t.encode(text, o)),
    decode: (ids, o) => t.decode(toOld(ids), o),
    applyChatTemplate: (m, o) => t.applyChatTemplate(m, o),
  };
  const wrap = (s: DecodeState): DecodeState => ({
    get size() {
      return s.size;
    },
    tokens: (i) => toNew(s.tokens(i)),
    async nextLogprobs(): Promise<LogprobMatrix> {
      const m = await s.nextLogprobs();
      const data = new Float32Array(m.data.length);
      for (let r = 0; r < m.rows; r++) for (let v = 0; v < V; v++) data[r * V + perm[v]] = m.data[r * V + v];
      return { rows: m.rows, vocab: V, data };
    },
    append: (chunks) => s.append(chunks.map(toOld)),
    fork: (indices) => wrap(s.fork(indices)),
    close: () => s.close(),
  });
  const score = requireScoring(model, 'the permuted-vocabulary wrapper');
  const open = requireDecoding(model, 'the permuted-vocabulary wrapper');
  return {
    id: `${model.id} (permuted vocabulary)`,
    tokenizer,
    capabilities: model.capabilities,
    eosIds: toNew(model.eosIds),
    get usage() {
      return model.usage;
    },
    sample: async (req) =>
      (await model.sample({ ...req, prompt: mapPrompt(req.prompt) })).map((s) => ({ ...s, tokens: toNew(s.tokens) })),
    score: async (items) =>
      (
        await score(items.map((it) => ({ prefix: mapPrompt(it.prefix), continuation: mapPrompt(it.continuation) })))
      ).map((r) => ({ ...r, tokens: toNew(r.tokens) })),
    open: async (prefixes, o) => wrap(await open(prefixes.map(toOld), o)),
    dispose: () => model.dispose(),
  };
}
