/**
 * Collecting a representation dataset: one prefill per prompt gives the hidden states of the
 * last prompt token (DecodeState.prefixHidden) and the KV cache that generation continues from
 * token by token — there is no second forward pass for the states. The states after t response
 * tokens (timeline probing) are taken inside the same decode loop. Items are written to the
 * store as their batch finishes; a killed run resumes where it stopped.
 */
import { AlignkitError, inputError } from '../errors.ts';
import { type DecodeState, type FinishReason, type LanguageModel, requireDecoding } from '../lm/language-model.ts';
import { sampleToken } from '../lm/sampling.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { createRng, type Rng } from '../util/random.ts';
import type { Attribute, AttributeOptions, AttributeValue } from './attribute.ts';
import { resolveLayers } from './model-layers.ts';
import type { PromptItem } from './prompt-data.ts';
import {
  promptGroup,
  randomInitGroup,
  RepresentationWriter,
  timelineGroup,
  timelineStep,
  type StateDtype,
  type StoredItem,
} from './representation-store.ts';

export interface CollectOptions {
  model: LanguageModel;
  items: readonly PromptItem[];
  attributes: readonly Attribute[];
  attributeOptions?: AttributeOptions;
  /** the store folder */
  out: string;
  /** layers to keep (default: all, when the model reports its layer count) */
  layers?: readonly number[];
  maxNewTokens: number;
  /** 0 = greedy (default) */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** response lengths t at which to keep the state after t tokens (t ≥ 1) */
  timeline?: readonly number[];
  /** render prompts with the tokenizer's chat template */
  chat?: boolean;
  /** stop strings (the response text is cut before them) */
  stop?: readonly string[];
  /** token ids that end a response (default: EOS and BOS — llama2.c models start a new story with BOS) */
  stopTokens?: readonly number[];
  dtype?: StateDtype;
  /** prompts decoded together (default 8) */
  batchSize?: number;
  resume?: boolean;
  /** the random-init control: a same-architecture, same-tokenizer model whose prompt states are kept too */
  randomInitModel?: LanguageModel;
  /** extra settings recorded in the store (and checked on resume), e.g. the data file */
  settings?: Record<string, unknown>;
  onProgress?: (progress: CollectProgress) => void;
}

export interface CollectProgress {
  done: number;
  total: number;
  resumed: number;
  generatedTokens: number;
  elapsedSeconds: number;
  itemsPerSecond: number;
}

export interface CollectResult {
  dir: string;
  /** items in the store */
  items: number;
  resumed: number;
  collected: number;
  generatedTokens: number;
  seconds: number;
  itemsPerSecond: number;
  /** prefills beyond one per prompt, needed for timeline states when the backend cannot return them while appending */
  extraPrefills: number;
  layers: number[];
}

/** Hidden states at each row's last appended token, offered by backends that can (the native one). */
interface AppendReturningHidden {
  appendChunks(
    chunks: readonly (readonly number[])[],
    layers: readonly number[],
  ): Promise<{ logprobs: number[][]; lastHidden: Float32Array[] }>;
}
const returnsHidden = (state: DecodeState): state is DecodeState & AppendReturningHidden =>
  typeof (state as Partial<AppendReturningHidden>).appendChunks === 'function';

export function encodePrompt(tokenizer: Tokenizer, prompt: string, chat: boolean): number[] {
  if (!chat) return tokenizer.encode(prompt);
  if (!tokenizer.hasChatTemplate)
    throw inputError('--chat needs a tokenizer with a chat template', { field: '--chat' });
  return tokenizer.encode(
    tokenizer.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true }),
    { addBos: false },
  );
}

interface Generation {
  item: PromptItem;
  index: number;
  promptTokens: number[];
  budget: number;
  rng: Rng;
  tokens: number[];
  logprobs: number[];
  text?: string;
  finish: FinishReason | null;
  states: Record<string, Float32Array[]>;
}

export async function collectRepresentations(options: CollectOptions): Promise<CollectResult> {
  const { model, items, attributes } = options;
  if (!model.capabilities.fullLogits || !model.capabilities.hiddenStates)
    throw new AlignkitError(
      'capability',
      `model ${model.id} cannot give next-token distributions and hidden states (a native model can); probing needs both`,
    );
  if (options.randomInitModel && options.randomInitModel.tokenizer.vocabSize !== model.tokenizer.vocabSize)
    throw inputError(
      `the random-init model has a vocabulary of ${options.randomInitModel.tokenizer.vocabSize}, the model ${model.tokenizer.vocabSize}; it must share the tokenizer`,
    );
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 1)
    throw inputError(`--max-new-tokens must be a positive integer, got ${options.maxNewTokens}`, {
      field: '--max-new-tokens',
    });
  const timeline = [...new Set(options.timeline ?? [])].sort((a, b) => a - b);
  for (const t of timeline)
    if (!Number.isInteger(t) || t < 1 || t > options.maxNewTokens)
      throw inputError(`timeline step ${t} must be an integer in 1..${options.maxNewTokens} (--max-new-tokens)`, {
        field: '--timeline',
      });

  const layers = resolveLayers(model, options.layers);
  const groups = [promptGroup, ...timeline.map(timelineGroup), ...(options.randomInitModel ? [randomInitGroup] : [])];
  const temperature = options.temperature ?? 0;
  const seed = options.seed ?? 0;
  const tokenizer = model.tokenizer;
  const stopTokens = new Set(
    options.stopTokens ?? [...model.eosIds, ...(tokenizer.bosId === null ? [] : [tokenizer.bosId])],
  );
  const { writer, finished } = RepresentationWriter.open(
    options.out,
    {
      dtype: options.dtype ?? 'float32',
      layers,
      groups,
      model: model.id,
      attributes: attributes.map((a) => ({ name: a.name, task: a.task })),
      settings: {
        maxNewTokens: options.maxNewTokens,
        temperature,
        topP: options.topP ?? 1,
        topK: options.topK ?? 0,
        seed,
        timeline,
        chat: !!options.chat,
        stop: options.stop ?? [],
        stopTokens: [...stopTokens],
        attributeOptions: options.attributeOptions ?? {},
        randomInit: options.randomInitModel?.id ?? null,
        ...options.settings,
      },
    },
    { resume: options.resume },
  );
  finished.forEach((done, i) => {
    if (i < items.length && done.id !== items[i].id)
      throw inputError(
        `--resume: item ${i} of the store is "${done.id}" but the data now has "${items[i].id}"; the data file changed`,
        { field: '--data' },
      );
  });

  const started = performance.now();
  let generatedTokens = 0,
    extraPrefills = 0;
  const progress = () => {
    const elapsedSeconds = (performance.now() - started) / 1000;
    const done = writer.items - finished.length;
    options.onProgress?.({
      done: writer.items,
      total: items.length,
      resumed: finished.length,
      generatedTokens,
      elapsedSeconds,
      itemsPerSecond: elapsedSeconds > 0 ? done / elapsedSeconds : 0,
    });
  };
  progress();
  const batchSize = Math.max(1, options.batchSize ?? 8);

  for (let start = finished.length; start < items.length; start += batchSize) {
    const batch: Generation[] = items.slice(start, start + batchSize).map((item, k) => {
      const promptTokens = encodePrompt(tokenizer, item.prompt, !!options.chat);
      const room = model.capabilities.maxContext - promptTokens.length;
      if (promptTokens.length === 0)
        throw inputError('the prompt encodes to no tokens', { line: item.line, field: 'prompt' });
      if (room < 1)
        throw inputError(
          `the prompt has ${promptTokens.length} tokens; the model's context is ${model.capabilities.maxContext}`,
          { line: item.line, field: 'prompt' },
        );
      const index = start + k;
      return {
        item,
        index,
        promptTokens,
        budget: Math.min(options.maxNewTokens, room),
        rng: createRng(seed * 2 ** 20 + index),
        tokens: [],
        logprobs: [],
        finish: null,
        states: Object.fromEntries(groups.map((g) => [g, [] as Float32Array[]])),
      };
    });
    extraPrefills += await generateBatch(batch, options, layers, timeline, temperature, stopTokens);
    if (options.randomInitModel) {
      const control = await requireDecoding(options.randomInitModel, 'the random-init control')(
        batch.map((g) => g.promptTokens),
        { hiddenLayers: layers },
      );
      const hidden = requireHidden(control, options.randomInitModel);
      control.close();
      batch.forEach((g, b) => {
        g.states[randomInitGroup] = rowsOf(hidden, b, batch.length);
      });
    }
    for (const g of batch) {
      generatedTokens += g.tokens.length;
      writer.append(describe(g, options), fillMissingTimeline(g, groups, layers.length));
    }
    progress();
  }
  const seconds = (performance.now() - started) / 1000;
  const collected = writer.items - finished.length;
  return {
    dir: options.out,
    items: writer.items,
    resumed: finished.length,
    collected,
    generatedTokens,
    seconds,
    itemsPerSecond: seconds > 0 ? collected / seconds : 0,
    extraPrefills,
    layers,
  };
}

/** Generates every response of a batch from one prefill; returns the number of extra prefills. */
async function generateBatch(
  batch: Generation[],
  options: CollectOptions,
  layers: number[],
  timeline: number[],
  temperature: number,
  stopTokens: Set<number>,
): Promise<number> {
  const { model } = options;
  const tokenizer = model.tokenizer;
  let state: DecodeState = await requireDecoding(model, 'probe collect')(
    batch.map((g) => g.promptTokens),
    { hiddenLayers: layers },
  );
  const prefixHidden = requireHidden(state, model);
  batch.forEach((g, b) => {
    g.states[promptGroup] = rowsOf(prefixHidden, b, batch.length);
  });
  let rows = batch.map((_, b) => b); // state row -> batch position
  let extraPrefills = 0;
  const stops = (options.stop ?? []).filter((s) => s.length > 0);
  const sampling = { temperature, topP: options.topP, topK: options.topK };
  try {
    while (rows.length) {
      const next = await state.nextLogprobs();
      const chunks: number[][] = [];
      const reached: number[] = []; // state rows whose response just reached a timeline step
      rows.forEach((b, r) => {
        const g = batch[b];
        const token = sampleToken(next.data, r * next.vocab, next.vocab, sampling, g.rng.next);
        if (stopTokens.has(token)) {
          g.finish = 'eos';
          chunks.push([]);
          return;
        }
        g.tokens.push(token);
        g.logprobs.push(next.data[r * next.vocab + token]);
        if (stops.length) {
          const text = tokenizer.decode(g.tokens);
          const at = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
          if (Number.isFinite(at)) {
            g.finish = 'stop';
            g.text = text.slice(0, at);
          }
        }
        if (!g.finish && g.tokens.length >= g.budget) g.finish = 'length';
        const atStep = !g.finish || g.finish === 'length' ? timeline.includes(g.tokens.length) : false;
        if (atStep) reached.push(r);
        chunks.push(g.finish && !atStep ? [] : [token]);
      });
      if (chunks.every((c) => c.length === 0)) break;
      if (reached.length && returnsHidden(state)) {
        const { lastHidden } = await state.appendChunks(chunks, layers);
        for (const r of reached)
          batch[rows[r]].states[timelineGroup(batch[rows[r]].tokens.length)] = rowsOf(lastHidden, r, rows.length);
      } else {
        await state.append(chunks);
        if (reached.length) {
          // the backend cannot return states while appending: one prefill of prompt + response so far
          const probe = await requireDecoding(model, 'probe collect')(
            reached.map((r) => [...batch[rows[r]].promptTokens, ...batch[rows[r]].tokens]),
            { hiddenLayers: layers },
          );
          const hidden = requireHidden(probe, model);
          probe.close();
          reached.forEach((r, k) => {
            batch[rows[r]].states[timelineGroup(batch[rows[r]].tokens.length)] = rowsOf(hidden, k, reached.length);
          });
          extraPrefills += reached.length;
        }
      }
      const keep = rows.map((b, r) => (batch[b].finish ? -1 : r)).filter((r) => r >= 0);
      if (keep.length < rows.length && keep.length > 0) {
        const forked = state.fork(keep);
        state.close();
        state = forked;
      }
      rows = keep.map((r) => rows[r]);
    }
  } finally {
    state.close();
  }
  return extraPrefills;
}

function requireHidden(state: DecodeState, model: LanguageModel): Float32Array[] {
  if (!state.prefixHidden) {
    state.close();
    throw new AlignkitError(
      'capability',
      `model ${model.id} returned no hidden states from open(); probing needs a backend with hidden states`,
    );
  }
  return state.prefixHidden;
}

/** Row `b` of each layer's [rows, hidden] matrix. */
function rowsOf(perLayer: Float32Array[], b: number, rows: number): Float32Array[] {
  return perLayer.map((m) => {
    const size = m.length / rows;
    return m.slice(b * size, (b + 1) * size);
  });
}

function fillMissingTimeline(g: Generation, groups: string[], layerCount: number): Record<string, Float32Array[]> {
  const size = g.states[promptGroup][0].length;
  return Object.fromEntries(
    groups.map((group) => [
      group,
      g.states[group].length ? g.states[group] : Array.from({ length: layerCount }, () => new Float32Array(size)),
    ]),
  );
}

function describe(g: Generation, options: CollectOptions): Omit<StoredItem, 'index'> {
  const { model, attributes } = options;
  const response = g.text ?? model.tokenizer.decode(g.tokens);
  const context = {
    prompt: g.item.prompt,
    promptTokens: g.promptTokens,
    response,
    responseTokens: g.tokens,
    responseLogprobs: g.logprobs,
    finishReason: g.finish ?? 'length',
    fields: g.item.fields,
    tokenizer: model.tokenizer,
    options: options.attributeOptions ?? {},
  };
  const values: Record<string, AttributeValue> = {};
  for (const a of attributes) values[a.name] = a.compute(context);
  const timeline: Record<string, Record<string, AttributeValue>> = {};
  for (const group of Object.keys(g.states)) {
    const t = timelineStep(group);
    if (t === null || g.states[group].length === 0) continue;
    timeline[String(t)] = Object.fromEntries(
      attributes.map((a) => [a.name, a.atStep ? a.atStep(values[a.name], t, context) : values[a.name]]),
    );
  }
  return {
    id: g.item.id,
    ...(g.item.line !== undefined ? { line: g.item.line } : {}),
    prompt: g.item.prompt,
    promptChars: g.item.prompt.length,
    promptTokens: g.promptTokens.length,
    response,
    responseTokens: g.tokens.length,
    finishReason: g.finish ?? 'length',
    attributes: values,
    ...(Object.keys(timeline).length ? { timeline } : {}),
  };
}
