/**
 * `alignkit steer <method>`: one subcommand per steering method of decode/steer-methods (its
 * model flags and settings flags come from the method's declaration), and `steer compare` for
 * several methods on the same prompts and seeds. Each calls `steerRun`.
 */
import {
  ROLE_DESCRIPTIONS,
  STEER_METHODS,
  STEER_ROLES,
  type SteerMethod,
  type SteerRole,
} from '../decode/steer-methods/index.ts';
import type { SteerRunOptions } from '../decode/steer-run.ts';
import type { RunTarget } from '../run/run-session.ts';
import type { OptionSpecs, OptionValues } from '../util/option-spec.ts';
import { readPrompts } from '../util/prompts-file.ts';
import { command, group, type CommandContext } from './command-spec.ts';
import { printRunEnd } from './run-output.ts';
import { API_KEY_OPTION, RUN_OPTIONS } from './shared-options.ts';

const MODELS = 'models';
const SAMPLING = 'sampling';
const TEMPLATES = 'prompt formats';

/** A flag per model role (each subcommand lists the roles its method uses). */
const ROLE_OPTIONS = Object.fromEntries(
  STEER_ROLES.map((role) => [
    role,
    {
      type: 'string',
      placeholder: 'REF',
      group: MODELS,
      description: `${ROLE_DESCRIPTIONS[role]}: a local path or BASE_URL#MODEL`,
    },
  ]),
) as Record<SteerRole, { type: 'string'; placeholder: 'REF'; group: string; description: string }>;

const templateKey = (role: SteerRole) => `${role}Template` as const;
const TEMPLATE_OPTIONS = Object.fromEntries(
  STEER_ROLES.map((role) => [
    templateKey(role),
    {
      type: 'string',
      group: TEMPLATES,
      description: `how the ${role} model sees the prompt: a text with "{prompt}", or "chat" (default: the raw prompt)`,
    },
  ]),
) as Record<`${SteerRole}Template`, { type: 'string'; group: string; description: string }>;

/** What every steering subcommand takes besides its method's models and settings. */
export const STEER_OPTIONS = {
  prompts: {
    type: 'string',
    required: true,
    placeholder: 'FILE',
    description: 'JSONL with a "prompt" field per line, or .txt with one prompt per line',
  },
  limit: { type: 'integer', min: 1, identity: false, description: 'the first N prompts' },
  reward: {
    type: 'string',
    placeholder: 'R',
    description: 'gold reward of every response: vader | afinn (sentiment lexicons) | a reward model REF',
  },
  rewardTemplate: {
    type: 'string',
    group: TEMPLATES,
    description: 'how a reward model sees the prompt: a text with "{prompt}", or "chat"',
  },
  smallTemplate: {
    type: 'string',
    group: TEMPLATES,
    description: 'the format of both --tuned and --untuned (each may be overridden)',
  },
  tokenizer: {
    type: 'string',
    placeholder: 'PATH',
    group: MODELS,
    description: 'tokenizer of local checkpoints that have none beside them',
  },
  ...API_KEY_OPTION,
  maxNewTokens: {
    type: 'integer',
    min: 1,
    default: 50,
    group: SAMPLING,
    description: 'response length in large-model tokens',
  },
  temperature: {
    type: 'number',
    min: 0,
    default: 0.7,
    group: SAMPLING,
    description: 'sampling temperature (0 = greedy)',
  },
  topK: { type: 'integer', min: 0, default: 50, group: SAMPLING, description: 'top-k sampling (0 = off)' },
  topP: {
    type: 'number',
    min: 0,
    max: 1,
    exclusiveMin: true,
    default: 1,
    group: SAMPLING,
    description: 'nucleus sampling',
  },
  seed: { type: 'integer', default: 1, group: SAMPLING, description: 'sampling seed; prompt i uses seed + i' },
  stop: { type: 'string', repeatable: true, group: SAMPLING, description: 'stop string' },
  ...RUN_OPTIONS,
} as const satisfies OptionSpecs;

/** The flags of a subcommand running `methods`: the common ones, their roles' and their settings'. */
export function steerOptions(methods: readonly SteerMethod[]) {
  const roles = STEER_ROLES.filter((role) => methods.some((m) => m.roles.includes(role)));
  const pick = <T extends Record<string, unknown>>(all: T, keys: readonly string[]) =>
    Object.fromEntries(keys.map((k) => [k, all[k]])) as T;
  return {
    ...pick(ROLE_OPTIONS, roles),
    ...STEER_OPTIONS,
    ...pick(TEMPLATE_OPTIONS, roles.map(templateKey)),
    ...Object.assign({}, ...methods.map((m) => m.settings)),
  } as typeof ROLE_OPTIONS & typeof STEER_OPTIONS & typeof TEMPLATE_OPTIONS & OptionSpecs;
}

export type SteerValues = OptionValues<ReturnType<typeof steerOptions>>;

/** A steering run's options as the library takes them (the library API calls this too). */
export function steerRunOptions(
  methods: readonly SteerMethod[],
  values: SteerValues,
  target: RunTarget,
): SteerRunOptions {
  const names = methods.map((m) => m.name);
  const settingKeys = new Set(methods.flatMap((m) => Object.keys(m.settings)));
  const small = values.smallTemplate;
  return {
    ...target,
    identity: { ...target.identity, compare: names },
    methods: names,
    models: Object.fromEntries(STEER_ROLES.flatMap((role) => (values[role] ? [[role, values[role]]] : []))),
    loading: { tokenizer: values.tokenizer, apiKeyEnv: values.apiKeyEnv },
    prompts: readPrompts(values.prompts).slice(0, values.limit),
    reward: values.reward,
    seed: values.seed,
    sampling: {
      maxNewTokens: values.maxNewTokens,
      temperature: values.temperature,
      topK: values.topK,
      topP: values.topP,
      stop: values.stop,
    },
    settings: Object.fromEntries(Object.entries(values).filter(([key]) => settingKeys.has(key))),
    formats: {
      large: values.largeTemplate,
      tuned: values.tunedTemplate ?? small,
      untuned: values.untunedTemplate ?? small,
      base: values.baseTemplate,
      aligned: values.alignedTemplate,
      value: values.valueTemplate,
      reward: values.rewardTemplate,
    },
  };
}

async function steer(methods: readonly SteerMethod[], values: SteerValues, context: CommandContext): Promise<number> {
  const { steerRun } = await import('../decode/steer-run.ts');
  const result = await steerRun(steerRunOptions(methods, values, context.runTarget()));
  context.progress.stop();
  printRunEnd(result);
  return 0;
}

const SMALL = '--large models/big --tuned runs/dpo/model --untuned runs/sft/model --prompts prompts.jsonl';

const methodCommands = STEER_METHODS.map((method) =>
  command({
    name: `steer ${method.name}`,
    summary: method.summary,
    description: `${method.summary}. Every prompt's response is scored by the gold --reward (if given); results stream to OUT/results.jsonl, and OUT/summary.json and OUT/report.html compare reward against compute (tokens processed by each model).`,
    examples: [
      `steer ${method.name} ${method.name === 'ed' ? '--base models/base --aligned models/chat --prompts prompts.jsonl' : method.name === 'ivg' ? '--large models/big --value runs/value/model --prompts prompts.jsonl' : method.name === 'sample' ? '--large models/big --prompts prompts.jsonl' : SMALL} --reward vader --out runs/steer-${method.name}`,
    ],
    options: steerOptions([method]),
    run: (values, context) => steer([method], values, context),
  }),
);

const compare = command({
  name: 'steer compare',
  summary: 'several methods on the same prompts and seeds (also: steer --compare a,b,c)',
  description:
    'Runs every method of --compare on each prompt with the same seed, so the methods are compared at matched sampling: the summary table and the reward-vs-compute plot have one point per method.',
  examples: [
    `steer compare --compare sample,bon,eft,w2s,ivg ${SMALL} --value runs/value/model --reward vader --out runs/steer`,
  ],
  options: {
    compare: {
      type: 'list',
      required: true,
      choices: STEER_METHODS.map((m) => m.name),
      identity: false, // the method list is the identity's "compare" key, in run order
      description: 'the methods to run on every prompt',
    },
    ...steerOptions(STEER_METHODS),
  },
  run: (values, context) =>
    steer(
      [...new Set(values.compare)].map((name) => STEER_METHODS.find((m) => m.name === name)!),
      values,
      context,
    ),
});

/** The commands, for the library API (which takes the same options). */
export const steerCommands = { compare, methods: methodCommands };

export const steerGroup = group({
  name: 'steer',
  noun: 'method',
  summary: 'inference-time alignment: sample, bon, eft, ed, w2s, ivg (and compare)',
  description:
    "Inference-time alignment of a large model without training it: each method combines the large model with small models (a tuned/untuned pair, a value model) or an aligned/base pair. Models are local paths or BASE_URL#MODEL; token-level methods (eft, ed, ivg's mixture) need one vocabulary, weak-to-strong search works on text.",
  commands: [...methodCommands, compare],
  defaultCommand: 'compare',
});
