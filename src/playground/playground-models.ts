/**
 * What the playground ships: the embedded models, the small tuned and value models of the main
 * job when `npm start` has cached them, and any model directories named on the command line (a
 * name that is a role, like `tuned`, takes that role). Sample prompts are the main job's
 * held-out story openings.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../errors.ts';
import { demoPrompts } from '../demo/demo-prompts.ts';
import type { TunedModels } from '../demo/tune-small.ts';
import type { BuildPlaygroundOptions, PlaygroundModel } from './build-playground.ts';
import type { PlaygroundManifest } from './manifest.ts';

type Role = keyof PlaygroundManifest['roles'];
const ROLES: readonly Role[] = ['large', 'tuned', 'untuned', 'base', 'aligned', 'value'];

export interface PlaygroundSources {
  /** the embedded models folder (large/, small/) */
  embeddedDir: string;
  /** the main job's cache of tuned small models (searched for its newest finished entry) */
  mainJobCacheDir?: string;
  /** NAME=DIR model directories */
  extra?: readonly string[];
}

/** The newest finished tuning of the main job in its cache, if any. */
export function cachedTunedModels(cacheDir: string): Pick<TunedModels, 'tuned' | 'value'> | null {
  if (!existsSync(cacheDir)) return null;
  const done = readdirSync(cacheDir)
    .map((name) => join(cacheDir, name, 'done.json'))
    .filter((file) => existsSync(file))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const file of done) {
    const { tuned, value } = JSON.parse(readFileSync(file, 'utf8')) as TunedModels;
    if (existsSync(join(tuned, 'config.json')) && existsSync(join(value, 'config.json'))) return { tuned, value };
  }
  return null;
}

export function playgroundContents(sources: PlaygroundSources): BuildPlaygroundOptions & { notes: string[] } {
  const models: PlaygroundModel[] = [
    { name: 'large', dir: join(sources.embeddedDir, 'large') },
    { name: 'small', dir: join(sources.embeddedDir, 'small') },
  ];
  const roles: PlaygroundManifest['roles'] = { large: 'large', base: 'large', untuned: 'small' };
  const notes: string[] = [];
  const tuned = sources.mainJobCacheDir ? cachedTunedModels(sources.mainJobCacheDir) : null;
  if (tuned) {
    models.push({ name: 'tuned', dir: tuned.tuned }, { name: 'value', dir: tuned.value });
    Object.assign(roles, { tuned: 'tuned', aligned: 'tuned', value: 'value' });
  }
  for (const item of sources.extra ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw inputError(`--model expects NAME=DIR, got "${item}"`);
    const name = item.slice(0, eq);
    const existing = models.findIndex((m) => m.name === name);
    if (existing >= 0) models.splice(existing, 1);
    models.push({ name, dir: item.slice(eq + 1) });
    if ((ROLES as readonly string[]).includes(name)) roles[name as Role] = name;
  }
  if (!roles.tuned)
    notes.push(
      'no tuned small model: EFT, W2S, Best-of-N (log-ratio) and ED are off until one is loaded (run `npm start` once to have the main job tune one, or pass --model tuned=DIR)',
    );
  if (!roles.value) notes.push('no value model: IVG is off until one is loaded (--model value=DIR)');
  return { models, roles, prompts: demoPrompts(sources.embeddedDir, 0, 8, 1).test, notes };
}
