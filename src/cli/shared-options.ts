/** Options several commands share, declared once. */
import type { OptionSpecs, OptionValues } from '../util/option-spec.ts';
import type { GraphFlavour } from '../engine/graph-flavour.ts';
import type { StepRuntime } from '../lm/native/runtime.ts';

/** Where a run goes: every command that writes a run folder takes these. */
export const RUN_OPTIONS = {
  out: {
    type: 'string',
    required: true,
    placeholder: 'DIR',
    identity: false,
    group: 'run',
    description: 'run folder: config.json, results (streamed), summary.json, report.html; locked while the run lasts',
  },
  resume: {
    type: 'boolean',
    identity: false,
    group: 'run',
    description: 'continue the run in --out without repeating finished work (refused if its settings differ)',
  },
} as const satisfies OptionSpecs;

export const TOKENIZER_OPTION = {
  tokenizer: {
    type: 'string',
    placeholder: 'PATH',
    description:
      'tokenizer of a local checkpoint that has none beside it (HF directory, tokenizer.json or llama2.c .bin)',
  },
} as const satisfies OptionSpecs;

/** How a native model runs (local models only; ignored for served ones). */
export const ENGINE_OPTIONS = {
  graph: {
    type: 'string',
    // spelled out (type-checked) so that parsing flags does not load onnxruntime
    choices: ['standard', 'contrib'] as const satisfies readonly GraphFlavour[],
    identity: false,
    description:
      'inference graph of a local model: standard (ONNX domain, portable; the default, as fast as contrib on CPU) or contrib (onnxruntime com.microsoft kernels)',
  },
  runtime: {
    type: 'string',
    choices: ['auto', 'onnxruntime', 'wasm'] as const satisfies readonly StepRuntime[],
    identity: false,
    description:
      'what runs the decode steps of a local model: auto (the default: a WebAssembly SIMD kernel for llama/qwen3-family models under 4M parameters, onnxruntime otherwise), onnxruntime or wasm',
  },
} as const satisfies OptionSpecs;

export const API_KEY_OPTION = {
  apiKeyEnv: {
    type: 'string',
    placeholder: 'VAR',
    identity: false,
    description: 'environment variable holding the API key of served models (default OPENAI_API_KEY)',
  },
} as const satisfies OptionSpecs;

/** The run part of a command's values, as library functions take it (RunTarget). */
export function runTarget(values: OptionValues<typeof RUN_OPTIONS>) {
  return { out: values.out, resume: values.resume };
}

/** Sampling a policy on prompts (train ilr-dpo, sweep modpo). */
export const POLICY_SAMPLING_OPTIONS = {
  maxNewTokens: {
    type: 'integer',
    min: 1,
    default: 256,
    group: 'sampling',
    description: 'tokens per sampled response',
  },
  temperature: {
    type: 'number',
    min: 0,
    default: 1,
    group: 'sampling',
    description: 'sampling temperature (0 = greedy)',
  },
  topP: { type: 'number', min: 0, max: 1, exclusiveMin: true, group: 'sampling', description: 'nucleus sampling' },
  topK: { type: 'integer', min: 0, group: 'sampling', description: 'top-k sampling (0 = off)' },
  stop: { type: 'string', repeatable: true, group: 'sampling', description: 'stop string' },
  template: {
    type: 'string',
    group: 'sampling',
    description: 'how the policy sees a prompt: a text with "{prompt}", or "chat" (default: the raw prompt)',
  },
} as const satisfies OptionSpecs;

export function policySampling(values: OptionValues<typeof POLICY_SAMPLING_OPTIONS>, samplesPerPrompt: number) {
  return {
    samplesPerPrompt,
    maxNewTokens: values.maxNewTokens,
    temperature: values.temperature,
    topP: values.topP,
    topK: values.topK,
    stop: values.stop,
    format: values.template,
  };
}
