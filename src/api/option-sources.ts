/**
 * Where each option object of the library API comes from: the option specification of the CLI
 * command that does the same work (so a function takes the command's flags, camelCase, with the
 * same types, defaults, ranges and errors), less the flags that only concern a terminal. The
 * generated option interfaces (option-types.ts, `npm run api:types`) and the runtime checks
 * both read this table, so they cannot drift apart. Each specification loads with its command
 * on first use, so that importing the library loads only what is called.
 */
import type { OptionSpecs } from '../util/option-spec.ts';

/** Flags that only shape what a terminal shows. */
const TERMINAL_ONLY = ['quiet'] as const;

function without(specs: OptionSpecs, keys: readonly string[]): OptionSpecs {
  return Object.fromEntries(Object.entries(specs).filter(([key]) => !keys.includes(key)));
}

/** The sampling flags every steering method shares (`alignkit steer`'s sampling group). */
const STEER_SAMPLING = ['maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'stop'] as const;

async function steerMethodOptions(name: string): Promise<OptionSpecs> {
  const { STEER_OPTIONS } = await import('../cli/steer.ts');
  const { steerMethodNamed } = await import('../decode/steer-methods/index.ts');
  return {
    ...Object.fromEntries(STEER_SAMPLING.map((key) => [key, STEER_OPTIONS[key]])),
    ...steerMethodNamed(name).settings,
  };
}

const trainOptions = async (name: 'sft' | 'rm' | 'value' | 'dpo' | 'modpo' | 'ilrDpo') =>
  without((await import('../cli/train.ts')).trainCommands[name].options, TERMINAL_ONLY);
const evalOptions = async (name: string) => (await import('../cli/eval.ts')).evalCommands[name].options;
const probeOptions = async (name: 'collect' | 'fit') => (await import('../cli/probe.ts')).probeCommands[name].options;

/** One option object: what it is for, and its specification (loaded on first use). */
export interface OptionSource {
  /** what the options are for, in the interface's doc comment */
  about: string;
  specs(): Promise<OptionSpecs>;
}

/** Every option object of the API, by the name of its generated interface. */
export const OPTION_SOURCES = {
  SampleOptions: { about: 'sample (plain sampling, the baseline)', specs: () => steerMethodOptions('sample') },
  BestOfNOptions: { about: 'bestOfN (`alignkit steer bon`)', specs: () => steerMethodOptions('bon') },
  EftOptions: { about: 'eft (`alignkit steer eft`)', specs: () => steerMethodOptions('eft') },
  EmulatedDisalignmentOptions: {
    about: 'emulatedDisalignment (`alignkit steer ed`)',
    specs: () => steerMethodOptions('ed'),
  },
  WeakToStrongSearchOptions: {
    about: 'weakToStrongSearch (`alignkit steer w2s`)',
    specs: () => steerMethodOptions('w2s'),
  },
  IvgOptions: { about: 'ivg (`alignkit steer ivg`)', specs: () => steerMethodOptions('ivg') },
  SteerRunOptions: {
    about: 'steerRun (`alignkit steer compare`: the methods of `compare` on every prompt of a file)',
    specs: async () => (await import('../cli/steer.ts')).steerCommands.compare.options,
  },
  TrainSftOptions: { about: 'trainSft (`alignkit train sft`)', specs: () => trainOptions('sft') },
  TrainRewardModelOptions: { about: 'trainRewardModel (`alignkit train rm`)', specs: () => trainOptions('rm') },
  TrainValueModelOptions: { about: 'trainValueModel (`alignkit train value`)', specs: () => trainOptions('value') },
  TrainDpoOptions: { about: 'trainDpo (`alignkit train dpo`)', specs: () => trainOptions('dpo') },
  TrainModpoOptions: { about: 'trainModpo (`alignkit train modpo`)', specs: () => trainOptions('modpo') },
  TrainIlrDpoOptions: { about: 'trainIlrDpo (`alignkit train ilr-dpo`)', specs: () => trainOptions('ilrDpo') },
  MtBench101Options: {
    about: 'evaluateMtBench101 (`alignkit eval mt-bench-101`)',
    specs: () => evalOptions('mt-bench-101'),
  },
  ConceptMathOptions: {
    about: 'evaluateConceptMath (`alignkit eval conceptmath`)',
    specs: () => evalOptions('conceptmath'),
  },
  WinRateOptions: { about: 'evaluateWinRate (`alignkit eval winrate`)', specs: () => evalOptions('winrate') },
  SafetyOptions: { about: 'evaluateSafety (`alignkit eval safety`)', specs: () => evalOptions('safety') },
  CollectProbeDataOptions: {
    about: 'collectProbeData (`alignkit probe collect`)',
    specs: () => probeOptions('collect'),
  },
  FitProbesOptions: { about: 'fitProbes (`alignkit probe fit`)', specs: () => probeOptions('fit') },
  ServeSettings: {
    about: 'serve (`alignkit serve`; the models are given by name in `models` and `guided`)',
    specs: async () =>
      without((await import('../cli/serve.ts')).serveCommand.options, ['model', 'guided', 'shutdownGraceMs']),
  },
} as const satisfies Record<string, OptionSource>;

/** The name of an option object (and of its interface in option-types.ts). */
export type OptionSourceName = keyof typeof OPTION_SOURCES;
