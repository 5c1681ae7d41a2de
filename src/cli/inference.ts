/** The one-shot inference commands: generate, score, convert. */
import { inputError } from '../errors.ts';
import { GGUF_PRECISIONS, type GgufPrecision } from '../models/gguf/gguf-model.ts';
import { command } from './command-spec.ts';
import type { GraphFlavour } from '../engine/graph-flavour.ts';
import type { StepRuntime } from '../lm/native/runtime.ts';
import { API_KEY_OPTION, ENGINE_OPTIONS, TOKENIZER_OPTION } from './shared-options.ts';

const MODEL = {
  model: {
    type: 'string',
    required: true,
    placeholder: 'REF',
    description: 'a local path (HF directory or llama2.c .bin) or BASE_URL#MODEL for an OpenAI-compatible server',
  },
  ...TOKENIZER_OPTION,
  adapter: {
    type: 'string',
    placeholder: 'DIR',
    description:
      'a LoRA adapter directory (PEFT layout, as train --lora-rank writes) merged into a local --model at load; over a quantized GGUF the adapted matrices are dequantized, the rest stay quantized',
  },
  ...API_KEY_OPTION,
  ...ENGINE_OPTIONS,
} as const;

/** Loads --model with the engine flags (what loading decided is printed by main.ts's note listener). */
async function loadWithEngine(values: {
  model: string;
  tokenizer?: string;
  apiKeyEnv?: string;
  adapter?: string;
  graph?: GraphFlavour;
  runtime?: StepRuntime;
}) {
  const { loadModel } = await import('../lm/load.ts');
  return loadModel(values.model, {
    tokenizer: values.tokenizer,
    apiKeyEnv: values.apiKeyEnv,
    adapter: values.adapter,
    graph: values.graph,
    runtime: values.runtime,
  });
}

export const generateCommand = command({
  name: 'generate',
  summary: 'sample text from a model',
  description:
    'Samples continuations of --prompt (default: from BOS alone) and prints them, or their JSON with --json.',
  examples: [
    'generate --model data/stories260K/stories260K.bin --tokenizer data/stories260K/tok512.bin --temperature 0 --max-new-tokens 200',
  ],
  options: {
    ...MODEL,
    prompt: { type: 'string', description: 'the text to continue (default: BOS alone)' },
    maxNewTokens: { type: 'integer', min: 1, default: 256, description: 'tokens to generate' },
    temperature: { type: 'number', min: 0, default: 1, description: 'sampling temperature (0 = greedy)' },
    topP: { type: 'number', min: 0, max: 1, exclusiveMin: true, description: 'nucleus sampling' },
    topK: { type: 'integer', min: 0, description: 'top-k sampling (0 = off)' },
    seed: { type: 'integer', description: 'sampling seed (same seed, same text on the native backend)' },
    n: { type: 'integer', min: 1, default: 1, description: 'continuations' },
    stop: { type: 'string', repeatable: true, description: 'stop string' },
    json: { type: 'boolean', description: 'print the samples as JSON (text, tokens, finish reason)' },
  },
  async run(values) {
    const model = await loadWithEngine(values);
    try {
      const bos = model.tokenizer.bosId;
      const prompt: string | number[] = values.prompt ?? (bos !== null ? [bos] : '');
      const samples = await model.sample({
        prompt,
        n: values.n,
        maxNewTokens: values.maxNewTokens,
        temperature: values.temperature,
        topP: values.topP,
        topK: values.topK,
        seed: values.seed,
        stop: values.stop,
      });
      if (values.json) console.log(JSON.stringify(samples.length === 1 ? samples[0] : samples));
      else for (const s of samples) console.log((typeof prompt === 'string' ? prompt : '') + s.text);
    } finally {
      await model.dispose();
    }
    return 0;
  },
});

export const scoreCommand = command({
  name: 'score',
  summary: 'log-probs of a continuation given a prompt',
  description:
    'Prints log p(token | prompt, tokens before it) for every token of --continuation and their total; the two are tokenized together and split where the prompt ends.',
  examples: [
    'score --model data/stories260K/stories260K.bin --tokenizer data/stories260K/tok512.bin --prompt "Once upon a time" --continuation " there was a dog" --json',
  ],
  options: {
    ...MODEL,
    prompt: { type: 'string', required: true, description: 'the prefix' },
    continuation: { type: 'string', required: true, description: 'the text whose log-probs are printed' },
    json: { type: 'boolean', description: 'print {tokens, logprobs, total} as JSON' },
  },
  async run(values) {
    const { requireScoring } = await import('../lm/language-model.ts');
    const model = await loadWithEngine(values);
    try {
      const [r] = await requireScoring(model, 'score')([{ prefix: values.prompt, continuation: values.continuation }]);
      if (values.json) console.log(JSON.stringify({ tokens: r.tokens, logprobs: r.logprobs, total: r.total }));
      else {
        for (let i = 0; i < r.tokens.length; i++)
          console.log(
            `${String(r.tokens[i]).padStart(7)}  ${r.logprobs[i].toFixed(4).padStart(9)}  ${JSON.stringify(model.tokenizer.decode([r.tokens[i]]))}`,
          );
        console.log(`total ${r.total.toFixed(4)} over ${r.tokens.length} tokens`);
      }
    } finally {
      await model.dispose();
    }
    return 0;
  },
});

const DTYPES = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;

const LOCAL_MODEL = {
  model: {
    type: 'string',
    required: true,
    placeholder: 'PATH',
    description: 'the local model: an HF directory, a llama2.c .bin or a GGUF file',
  },
  ...TOKENIZER_OPTION,
} as const;

/** Writes a local model as one GGUF file of `precision` and prints what was stored (convert --to gguf, quantize). */
async function writeGguf(model: string, tokenizer: string | undefined, out: string, precision: GgufPrecision) {
  const { readLocalCheckpoint } = await import('../lm/load.ts');
  const { saveGguf } = await import('../lm/save-gguf.ts');
  const ckpt = readLocalCheckpoint(model, tokenizer);
  for (const note of ckpt.notes ?? []) console.log(`read ${ckpt.source}: ${note}`);
  const written = saveGguf(out, ckpt, precision);
  const types = Object.entries(written.storedTypes)
    .map(([type, n]) => `${n} ${type}`)
    .join(', ');
  console.log(`wrote ${out} (GGUF ${written.architecture}, ${precision}: ${types} tensors)`);
  for (const note of written.notes) console.log(`note: ${note}`);
  return 0;
}

export const convertCommand = command({
  name: 'convert',
  summary: 'write any model as an HF directory, or as GGUF (--to gguf)',
  description:
    "Writes a local model (a llama2.c .bin with its tokenizer, an HF directory, a GGUF file) as an HF directory — safetensors, config.json and tokenizer.json; llama2.c q/k rows are permuted to HF's rotary layout, so the converted model gives the same logits — or with --to gguf as one GGUF file (--quantize f32|f16|q8_0|q4_0), which llama.cpp and Ollama read.",
  examples: [
    'convert --model data/stories260K/stories260K.bin --tokenizer data/stories260K/tok512.bin --out models/stories260K',
    'convert --model models/stories260K --to gguf --quantize q8_0 --out stories260K.q8_0.gguf',
  ],
  options: {
    ...LOCAL_MODEL,
    out: {
      type: 'string',
      required: true,
      placeholder: 'PATH',
      description: 'the HF directory (or GGUF file) to write',
    },
    to: { type: 'string', choices: ['hf', 'gguf'], default: 'hf', description: 'the format written' },
    dtype: {
      type: 'string',
      choices: ['float32', 'float16', 'bfloat16'],
      description: 'weight storage of an HF directory (default float32)',
    },
    quantize: {
      type: 'string',
      choices: GGUF_PRECISIONS,
      description: 'tensor types of a GGUF file (default f32)',
    },
  },
  async run(values) {
    if (values.to === 'gguf') {
      if (values.dtype !== undefined)
        throw inputError('--dtype is for --to hf; GGUF takes --quantize', { field: '--dtype' });
      return writeGguf(values.model, values.tokenizer, values.out, values.quantize ?? 'f32');
    }
    if (values.quantize !== undefined) throw inputError('--quantize needs --to gguf', { field: '--quantize' });
    const { readLocalCheckpoint } = await import('../lm/load.ts');
    const { saveCheckpoint } = await import('../lm/save-checkpoint.ts');
    const ckpt = readLocalCheckpoint(values.model, values.tokenizer);
    for (const note of ckpt.notes ?? []) console.log(`read ${ckpt.source}: ${note}`);
    saveCheckpoint(values.out, ckpt.config, ckpt.weights, ckpt.tokenizer, { dtype: DTYPES[values.dtype ?? 'float32'] });
    console.log(
      `wrote ${values.out} (${ckpt.config.architecture}, ${ckpt.config.numLayers} layers, vocab ${ckpt.config.vocabSize})`,
    );
    return 0;
  },
});

export const quantizeCommand = command({
  name: 'quantize',
  summary: 'write a model as a quantized GGUF file (q8_0, q4_0)',
  description: 'Writes a local model as one GGUF file with quantized weights (as convert --to gguf --quantize TYPE).',
  examples: ['quantize --model models/stories260K --type q4_0 --out stories260K.q4_0.gguf'],
  options: {
    ...LOCAL_MODEL,
    out: { type: 'string', required: true, placeholder: 'FILE', description: 'the GGUF file to write' },
    type: { type: 'string', choices: GGUF_PRECISIONS, default: 'q8_0', description: 'tensor types' },
  },
  run: (values) => writeGguf(values.model, values.tokenizer, values.out, values.type),
});
