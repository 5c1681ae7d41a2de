/** The steering methods, by name: each declared in its own module (a new method is a new module listed here). */
import { inputError } from '../../errors.ts';
import type { SteerResult } from '../steer-result.ts';
import { bon } from './bon.ts';
import { ed } from './ed.ts';
import { eft } from './eft.ts';
import { ivg } from './ivg.ts';
import { sample } from './sample.ts';
import type { MethodContext, SteerMethod, SteerModels, SteerRole, SteerSampling } from './steer-method.ts';
import { w2s } from './w2s.ts';

export const STEER_METHODS: readonly SteerMethod[] = [sample, bon, eft, ed, w2s, ivg];
export const STEER_METHOD_NAMES = STEER_METHODS.map((m) => m.name);

export function steerMethodNamed(name: string): SteerMethod {
  const method = STEER_METHODS.find((m) => m.name === name);
  if (!method) throw inputError(`unknown method "${name}" (expected one of ${STEER_METHOD_NAMES.join(', ')})`);
  return method;
}

/**
 * The roles the methods need with these settings, checked before any model is loaded: the first
 * missing one is an input error naming its flag.
 */
export function checkSteerRoles(
  methods: readonly SteerMethod[],
  present: Partial<Record<SteerRole | 'reward', unknown>>,
  settings: Readonly<Record<string, unknown>>,
): void {
  const why: Partial<Record<SteerRole | 'reward', string>> = {
    value: ' (a value model trained by `alignkit train value`)',
    reward: ' (--bon-scorer reward)',
  };
  for (const method of methods)
    for (const [first, ...others] of method.requires(settings))
      if (![first, ...others].some((role) => present[role]))
        throw inputError(
          `method ${method.name} needs --${first}${others.map((r) => ` (or --${r})`).join('')}${why[first] ?? ''}`,
        );
}

/** Everything one steering call takes: the sampling of the response and every method's settings. */
export type SteerSettings = SteerSampling & MethodContext & Readonly<Record<string, unknown>>;

/** Runs the method `name` on one prompt: the entry point scripts, the demo and guided models share. */
export function runSteerMethod(
  name: string,
  models: SteerModels,
  prompt: string,
  settings: SteerSettings,
): Promise<SteerResult> {
  const { maxNewTokens, temperature, topK, topP, stop, seed, onProgress, onSettled, formats, gold } = settings;
  return steerMethodNamed(name).run(
    models,
    prompt,
    { maxNewTokens, temperature, topK, topP, stop, seed, onProgress, onSettled },
    settings,
    { formats, gold },
  );
}

export type {
  MethodContext,
  SteerMethod,
  SteerModels,
  SteerRole,
  SteerSampling,
  SteerStreaming,
} from './steer-method.ts';
export { STEER_ROLES, ROLE_DESCRIPTIONS } from './steer-method.ts';
