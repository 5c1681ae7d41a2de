/** `alignkit probe collect|fit`: hidden-state datasets of a model's prompts, and probes on them. */
import { defaultProbeGrid } from '../probe/probe-fit.ts';
import { PROBE_CONTROLS, type CollectRunOptions, type FitRunOptions } from '../probe/probe-runs.ts';
import type { RunTarget } from '../run/run-session.ts';
import type { OptionValues } from '../util/option-spec.ts';
import { command, group } from './command-spec.ts';
import { formatTable, printLines } from './run-output.ts';
import { API_KEY_OPTION, RUN_OPTIONS } from './shared-options.ts';

const ATTRIBUTES = 'attributes';
const GENERATION = 'generation';

const collect = command({
  name: 'probe collect',
  summary: 'hidden states of the last prompt token and attributes of the generated response',
  description:
    "For each prompt, one prefill gives the hidden state of the last prompt token at every layer (or --layers) and the KV cache the response is generated from; the response's attributes are computed and everything is appended to the store in OUT (one folder per model when several are given). A killed run resumes with --resume.",
  examples: [
    'probe collect --model data/stories260K/stories260K.bin --tokenizer data/stories260K/tok512.bin --data data/tinystories-sample/tinystories.txt --prompt-words -40 --attributes length,character --control-random-init --out runs/probe',
  ],
  options: {
    model: {
      type: 'string',
      repeatable: true,
      required: true,
      placeholder: 'REF',
      description: 'the model (repeat for several: one store each)',
    },
    tokenizer: {
      type: 'string',
      placeholder: 'PATH',
      description: 'tokenizer of a local model that has none beside it',
    },
    ...API_KEY_OPTION,
    data: {
      type: 'string',
      required: true,
      placeholder: 'FILE',
      description: 'JSONL (one object per line; .jsonl.gz too) or .txt (one prompt per line)',
    },
    promptField: {
      type: 'string',
      description: 'field holding the prompt (default: prompt, question, instruction, input or text)',
    },
    template: { type: 'string', description: 'build the prompt from fields, e.g. "Q: {question}\\nA:"' },
    limit: { type: 'integer', min: 1, description: 'the first N prompts' },
    promptWords: {
      type: 'integer',
      description: 'keep the first N words of each prompt (negative: the last |N| words, e.g. --prompt-words -40)',
    },
    chat: { type: 'boolean', description: "render prompts with the tokenizer's chat template" },
    attributes: {
      type: 'list',
      required: true,
      group: ATTRIBUTES,
      description:
        'length, steps, character, choice, confidence, consistency, a data field (NAME or field:NAME), or one from --attribute-module',
    },
    attributeModule: {
      type: 'string',
      repeatable: true,
      placeholder: 'FILE',
      group: ATTRIBUTES,
      description: 'an ES module (.mjs/.ts) exporting `attributes`: [{ name, task, compute(context) }]',
    },
    names: {
      type: 'list',
      group: ATTRIBUTES,
      description: 'candidate names for "character" (default: common TinyStories names)',
    },
    referenceField: {
      type: 'string',
      group: ATTRIBUTES,
      description: 'reference answer for "consistency"/"confidence" (default: reference, answer, label)',
    },
    confidence: {
      type: 'string',
      choices: ['mean', 'first', 'last', 'min'],
      group: ATTRIBUTES,
      description: 'how "confidence" pools the answer tokens (default mean)',
    },
    maxSteps: { type: 'integer', min: 1, group: ATTRIBUTES, description: 'cap for "steps"' },
    layers: { type: 'list', items: 'integer', min: 0, description: 'layers to keep (0 = embeddings; default all)' },
    timeline: {
      type: 'list',
      items: 'integer',
      min: 1,
      description: 'also keep the state after t response tokens, e.g. 8,32,128',
    },
    maxNewTokens: { type: 'integer', min: 1, default: 256, group: GENERATION, description: 'response length' },
    temperature: {
      type: 'number',
      min: 0,
      default: 0,
      group: GENERATION,
      description: 'sampling temperature (0 = greedy)',
    },
    topP: { type: 'number', min: 0, max: 1, exclusiveMin: true, group: GENERATION, description: 'nucleus sampling' },
    topK: { type: 'integer', min: 0, group: GENERATION, description: 'top-k sampling' },
    seed: { type: 'integer', default: 0, group: GENERATION, description: "sampling seed (and the random-init twin's)" },
    stop: { type: 'string', repeatable: true, group: GENERATION, description: 'stop string' },
    dtype: { type: 'string', choices: ['float32', 'float16'], default: 'float32', description: 'state storage' },
    batchSize: { type: 'integer', min: 1, default: 8, identity: false, description: 'prompts decoded together' },
    controlRandomInit: {
      type: 'boolean',
      description: 'also keep the prompt states of a randomly initialised model of the same architecture',
    },
    ...RUN_OPTIONS,
  },
  async run(values, context) {
    const { collectProbeData } = await import('../probe/probe-runs.ts');
    const result = await collectProbeData(collectRun(values, context.runTarget()));
    context.progress.stop();
    printLines([formatTable(result.summary.tables[0]), `report: ${result.reportPath}`]);
    return 0;
  },
});

const fit = command({
  name: 'probe fit',
  summary: 'probes per layer with their controls, on collected stores',
  description:
    'Fits probes per layer with a 60/20/20 split per seed, hyper-parameters chosen on validation, next to the controls (shuffled labels, random-init states, prompt surface features, timeline states), and writes OUT/summary.json and OUT/report.html with the layer curves.',
  examples: ['probe fit --in runs/probe --probe linear --seeds 5 --out runs/probe-fit'],
  options: {
    in: {
      type: 'string',
      repeatable: true,
      required: true,
      placeholder: 'DIR',
      description: 'a store written by probe collect, or a folder of stores',
    },
    probe: { type: 'list', required: true, choices: ['linear', 'mlp'], description: 'probe kinds' },
    seeds: { type: 'integer', min: 1, default: 3, description: 'splits (and MLP initializations)' },
    attributes: { type: 'list', description: 'attributes to probe (default: all collected)' },
    layers: { type: 'list', items: 'integer', min: 0, description: 'layers to probe (default: all collected)' },
    controls: {
      type: 'list',
      choices: ['shuffled', 'random-init', 'surface', 'timeline', 'none'],
      description: 'controls fitted next to the probes (default all; "none" for none)',
    },
    hiddenSizes: {
      type: 'list',
      items: 'integer',
      min: 1,
      default: defaultProbeGrid.mlpHidden,
      description: 'MLP hidden sizes searched',
    },
    l2: {
      type: 'list',
      items: 'number',
      min: 0,
      default: defaultProbeGrid.mlpL2,
      description: 'MLP L2 penalties searched',
    },
    maxEpochs: {
      type: 'integer',
      min: 1,
      default: defaultProbeGrid.mlpMaxEpochs,
      description: 'MLP epochs (early stopping on validation)',
    },
    balance: { type: 'boolean', description: 'classification: downsample every class to the smallest' },
    ...RUN_OPTIONS,
  },
  async run(values, context) {
    const { fitProbes } = await import('../probe/probe-runs.ts');
    const result = await fitProbes(fitRun(values, context.runTarget()));
    context.progress.stop();
    for (const s of result.skipped) console.error(`not probed: ${s.reason}`);
    printLines([formatTable(result.summary.tables[0]), `report: ${result.reportPath}`]);
    return 0;
  },
});

/** `probe collect`'s options as the library takes them (the library API calls this too). */
export function collectRun(values: OptionValues<typeof collect.options>, target: RunTarget): CollectRunOptions {
  return {
    ...target,
    models: values.model,
    tokenizer: values.tokenizer,
    apiKeyEnv: values.apiKeyEnv,
    data: values.data,
    promptField: values.promptField,
    template: values.template,
    limit: values.limit,
    promptWords: values.promptWords,
    attributes: values.attributes,
    attributeModules: values.attributeModule,
    attributeOptions: {
      ...(values.names.length ? { names: values.names } : {}),
      ...(values.referenceField ? { referenceField: values.referenceField } : {}),
      ...(values.confidence ? { confidence: values.confidence } : {}),
      ...(values.maxSteps ? { maxSteps: values.maxSteps } : {}),
    },
    layers: values.layers.length ? values.layers : undefined,
    timeline: values.timeline.length ? values.timeline : undefined,
    maxNewTokens: values.maxNewTokens,
    temperature: values.temperature,
    topP: values.topP,
    topK: values.topK,
    seed: values.seed,
    chat: values.chat,
    stop: values.stop,
    dtype: values.dtype,
    batchSize: values.batchSize,
    controlRandomInit: values.controlRandomInit,
  };
}

/** `probe fit`'s options as the library takes them. */
export function fitRun(values: OptionValues<typeof fit.options>, target: RunTarget): FitRunOptions {
  return {
    ...target,
    inputs: values.in,
    probes: values.probe,
    seeds: values.seeds,
    attributes: values.attributes,
    layers: values.layers.length ? values.layers : undefined,
    controls: values.controls.length ? PROBE_CONTROLS.filter((c) => values.controls.includes(c)) : undefined,
    grid: { mlpHidden: values.hiddenSizes, mlpL2: values.l2, mlpMaxEpochs: values.maxEpochs },
    balance: values.balance,
  };
}

/** The commands, for the library API (which takes the same options). */
export const probeCommands = { collect, fit };

export const probeGroup = group({
  name: 'probe',
  summary: 'collect hidden states and fit probes',
  description:
    'Emergent response planning: probes on the hidden states of the last prompt token that predict attributes of the whole response the model then generates, fitted next to the controls the paper lacks.',
  commands: [collect, fit],
});
