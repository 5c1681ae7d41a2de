/**
 * Where each option object of the library API comes from: the option specification of the CLI
 * command that does the same work (so a function takes the command's flags, camelCase, with the
 * same types, defaults, ranges and errors), less the flags that only concern a terminal. The
 * generated option interfaces (option-types.ts, `npm run api:types`) and the runtime checks
 * both read this table, so they cannot drift apart.
 */
import { steerMethodNamed } from '../decode/steer-methods/index.ts';
import { evalCommands } from '../cli/eval.ts';
import { probeCommands } from '../cli/probe.ts';
import { serveCommand } from '../cli/serve.ts';
import { STEER_OPTIONS, steerCommands } from '../cli/steer.ts';
import { trainCommands } from '../cli/train.ts';
import type { OptionSpecs } from '../util/option-spec.ts';

/** Flags that only shape what a terminal shows, or that the API takes in another form. */
const TERMINAL_ONLY = ['quiet'] as const;

function without<S extends OptionSpecs>(specs: S, keys: readonly string[]): OptionSpecs {
  return Object.fromEntries(Object.entries(specs).filter(([key]) => !keys.includes(key)));
}

/** The sampling flags every steering method shares (`alignkit steer`'s sampling group). */
const STEER_SAMPLING = ['maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'stop'] as const;

const steerMethodOptions = (name: string): OptionSpecs => ({
  ...Object.fromEntries(STEER_SAMPLING.map((key) => [key, STEER_OPTIONS[key]])),
  ...steerMethodNamed(name).settings,
});

/** One option object: its specification and what it is for. */
export interface OptionSource {
  /** what the options are for, in the interface's doc comment */
  about: string;
  specs: OptionSpecs;
}

/** Every option object of the API, by the name of its generated interface. */
export const OPTION_SOURCES = {
  SampleOptions: { about: 'sample (plain sampling, the baseline)', specs: steerMethodOptions('sample') },
  BestOfNOptions: { about: 'bestOfN (`alignkit steer bon`)', specs: steerMethodOptions('bon') },
  EftOptions: { about: 'eft (`alignkit steer eft`)', specs: steerMethodOptions('eft') },
  EmulatedDisalignmentOptions: {
    about: 'emulatedDisalignment (`alignkit steer ed`)',
    specs: steerMethodOptions('ed'),
  },
  WeakToStrongSearchOptions: {
    about: 'weakToStrongSearch (`alignkit steer w2s`)',
    specs: steerMethodOptions('w2s'),
  },
  IvgOptions: { about: 'ivg (`alignkit steer ivg`)', specs: steerMethodOptions('ivg') },
  SteerRunOptions: {
    about: 'steerRun (`alignkit steer compare`: the methods of `compare` on every prompt of a file)',
    specs: steerCommands.compare.options,
  },
  TrainSftOptions: {
    about: 'trainSft (`alignkit train sft`)',
    specs: without(trainCommands.sft.options, TERMINAL_ONLY),
  },
  TrainRewardModelOptions: {
    about: 'trainRewardModel (`alignkit train rm`)',
    specs: without(trainCommands.rm.options, TERMINAL_ONLY),
  },
  TrainValueModelOptions: {
    about: 'trainValueModel (`alignkit train value`)',
    specs: without(trainCommands.value.options, TERMINAL_ONLY),
  },
  TrainDpoOptions: {
    about: 'trainDpo (`alignkit train dpo`)',
    specs: without(trainCommands.dpo.options, TERMINAL_ONLY),
  },
  TrainModpoOptions: {
    about: 'trainModpo (`alignkit train modpo`)',
    specs: without(trainCommands.modpo.options, TERMINAL_ONLY),
  },
  TrainIlrDpoOptions: {
    about: 'trainIlrDpo (`alignkit train ilr-dpo`)',
    specs: without(trainCommands.ilrDpo.options, TERMINAL_ONLY),
  },
  MtBench101Options: {
    about: 'evaluateMtBench101 (`alignkit eval mt-bench-101`)',
    specs: evalCommands['mt-bench-101'].options,
  },
  ConceptMathOptions: {
    about: 'evaluateConceptMath (`alignkit eval conceptmath`)',
    specs: evalCommands.conceptmath.options,
  },
  WinRateOptions: { about: 'evaluateWinRate (`alignkit eval winrate`)', specs: evalCommands.winrate.options },
  SafetyOptions: { about: 'evaluateSafety (`alignkit eval safety`)', specs: evalCommands.safety.options },
  CollectProbeDataOptions: {
    about: 'collectProbeData (`alignkit probe collect`)',
    specs: probeCommands.collect.options,
  },
  FitProbesOptions: { about: 'fitProbes (`alignkit probe fit`)', specs: probeCommands.fit.options },
  ServeSettings: {
    about: 'serve (`alignkit serve`; the models are given by name in `models` and `guided`)',
    specs: without(serveCommand.options, ['model', 'guided', 'shutdownGraceMs']),
  },
} as const satisfies Record<string, OptionSource>;

/** The name of an option object (and of its interface in option-types.ts). */
export type OptionSourceName = keyof typeof OPTION_SOURCES;
