/**
 * HF model directories: config.json + safetensors (single or sharded) [+ generation_config.json,
 * tokenizer files]. Saving builds the whole directory beside the target and renames it into
 * place, so a killed save never leaves a half-written model.
 */
import {
  basename,
  dirname,
  existsSync,
  isAbsolute,
  isProcessRunning,
  join,
  mkdirSync,
  normalize,
  processId,
  readdirSync,
  renameSync,
  resolve,
  rmSync,
  sep,
  statSync,
  writeFileSync,
} from '../util/io.ts';
import { formatError, inputError } from '../errors.ts';
import { configToHf, readHfConfig, type ModelConfig } from './config.ts';
import {
  findCheckpointFile,
  SafetensorsCheckpoint,
  writeSafetensorsCheckpoint,
  type SaveDtype,
} from './safetensors.ts';
import { checkWeightShapes, storedWeightNames } from './weight-shapes.ts';
import type { Weights } from './weights.ts';

export const CONFIG_FILE = 'config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';

export interface HfModel {
  config: ModelConfig;
  /** float32, HF names (GPT-2 with the `transformer.` prefix), only the tensors the config needs */
  weights: Weights;
  dir: string;
}

export interface ReadHfOptions {
  onProgress?: (p: { done: number; total: number; name: string }) => void;
}

/** True when `path` is a directory with a config.json (the cheap test model-reference parsing needs). */
export function isHfDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, CONFIG_FILE));
}

export function readHfDirectory(dir: string, options: ReadHfOptions = {}): HfModel {
  if (!existsSync(dir)) {
    const interrupted = leftovers(dir).find((f) => f.kind === 'old');
    const hint = interrupted
      ? ` (a save was interrupted while replacing it; the previous model is in ${interrupted.path})`
      : '';
    throw inputError(`model directory not found${hint}`, { file: dir });
  }
  if (!statSync(dir).isDirectory())
    throw inputError('expected an HF model directory (config.json + *.safetensors)', { file: dir });
  if (!existsSync(join(dir, CONFIG_FILE)))
    throw formatError(`not an HF model directory: no ${CONFIG_FILE}`, { file: dir });
  const config = readHfConfig(join(dir, CONFIG_FILE));
  let checkpointFile: string;
  try {
    checkpointFile = findCheckpointFile(dir);
  } catch (e) {
    const hasPickle = readdirSync(dir).some((f) => f.startsWith('pytorch_model') && f.endsWith('.bin'));
    if (hasPickle)
      throw formatError('only PyTorch pickle weights (pytorch_model*.bin); convert them to safetensors', { file: dir });
    throw e;
  }
  const checkpoint = SafetensorsCheckpoint.open(checkpointFile);
  checkWeightShapes(config, checkpoint.shapes(), checkpointFile);

  const names = storedWeightNames(config, checkpoint.tensors.keys());
  const weights: Weights = new Map();
  names.forEach(([stored, name], i) => {
    weights.set(name, checkpoint.read(stored));
    options.onProgress?.({ done: i + 1, total: names.length, name });
  });
  return { config, weights, dir };
}

export interface WriteHfOptions {
  /** shard the safetensors above this many bytes per file (default 5 GB, as HF) */
  shardBytes?: number;
  /** on-disk dtype (default F32); config.json's torch_dtype follows it */
  dtype?: SaveDtype;
  /** more files for the directory, e.g. tokenizer.json, tokenizer_config.json (relative paths) */
  extraFiles?: Record<string, string | Uint8Array>;
  /** extra generation_config.json keys (bos/eos ids come from the config) */
  generationConfig?: Record<string, unknown>;
}

const TORCH_DTYPE: Record<SaveDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * Writes `dir` as an HF model directory. The weights must match the config (checked first).
 * An existing `dir` is replaced only once the new one is complete, and only if it is empty or
 * an HF model directory itself (never a folder of unrelated files).
 */
export function writeHfDirectory(
  dir: string,
  config: ModelConfig,
  weights: Weights,
  options: WriteHfOptions = {},
): void {
  const shapes = new Map([...weights].map(([name, t]) => [name, t.shape]));
  checkWeightShapes(config, shapes, `weights to save in ${dir}`);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw inputError('exists and is not a directory', { file: dir });
    if (readdirSync(dir).length > 0 && !existsSync(join(dir, CONFIG_FILE))) {
      throw inputError(`refusing to replace a non-empty directory that is not a model directory (no ${CONFIG_FILE})`, {
        file: dir,
      });
    }
  }
  const dtype = options.dtype ?? 'F32';
  const extraFiles = Object.entries(options.extraFiles ?? {}).map(
    ([name, content]) => [checkExtraFileName(name, dir), content] as const,
  );

  const parent = dirname(resolve(dir));
  mkdirSync(parent, { recursive: true });
  removeDeadLeftovers(dir);
  const stamp = `${processId()}-${Date.now()}`;
  const tmp = join(parent, `.${basename(resolve(dir))}.tmp-${stamp}`);
  mkdirSync(tmp);
  try {
    const hfConfig = { ...configToHf(config), torch_dtype: TORCH_DTYPE[dtype] };
    writeFileSync(join(tmp, CONFIG_FILE), JSON.stringify(hfConfig, null, 2) + '\n');
    const generation = Object.fromEntries(
      Object.entries({
        _from_model_config: true,
        bos_token_id: config.bosTokenId,
        eos_token_id: config.eosTokenId,
        ...options.generationConfig,
      }).filter(([, v]) => v !== null && v !== undefined),
    );
    writeFileSync(join(tmp, GENERATION_CONFIG_FILE), JSON.stringify(generation, null, 2) + '\n');
    const toSave: Weights = new Map(
      [...weights].filter(([name]) => !(config.tieWordEmbeddings && name === 'lm_head.weight')),
    );
    writeSafetensorsCheckpoint(tmp, toSave, { dtype, shardBytes: options.shardBytes ?? 5e9 });
    for (const [name, content] of extraFiles) {
      mkdirSync(dirname(join(tmp, name)), { recursive: true });
      writeFileSync(join(tmp, name), content);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(dir)) {
    // no atomic directory swap in Node: move the old one aside, the new one in, then delete the old
    const old = join(parent, `.${basename(resolve(dir))}.old-${stamp}`);
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
}

/** Temp (`.NAME.tmp-PID-TIME`) and replaced (`.NAME.old-PID-TIME`) siblings that saves of `dir` leave when killed. */
function leftovers(dir: string): { path: string; kind: 'tmp' | 'old'; pid: number }[] {
  const parent = dirname(resolve(dir));
  if (!existsSync(parent)) return [];
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(resolve(dir)))}\\.(tmp|old)-(\\d+)-\\d+$`);
  return readdirSync(parent).flatMap((name) => {
    const m = pattern.exec(name);
    return m ? [{ path: join(parent, name), kind: m[1] as 'tmp' | 'old', pid: Number(m[2]) }] : [];
  });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Deletes what killed saves left behind; an `.old` copy only once `dir` itself is whole again. */
function removeDeadLeftovers(dir: string): void {
  for (const left of leftovers(dir)) {
    if (left.pid === processId() || isProcessRunning(left.pid)) continue;
    if (left.kind === 'old' && !existsSync(dir)) continue;
    rmSync(left.path, { recursive: true, force: true });
  }
}

const RESERVED = /^(config\.json|generation_config\.json|model(-\d{5}-of-\d{5})?\.safetensors(\.index\.json)?)$/;

function checkExtraFileName(name: string, dir: string): string {
  const clean = normalize(name);
  if (!name || isAbsolute(name) || clean.startsWith('..') || clean.split(sep).includes('..')) {
    throw inputError(`extra file name ${JSON.stringify(name)} must be a relative path inside the directory`, {
      file: dir,
    });
  }
  if (RESERVED.test(clean))
    throw inputError(`extra file ${JSON.stringify(name)} would overwrite a file the model save writes`, { file: dir });
  return clean;
}
