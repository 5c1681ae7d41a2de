/**
 * Builds the playground as static files: index.html, the page bundle (main.js, by esbuild from
 * page/main.ts, with the browser sides of the boundaries), onnxruntime-web's WebAssembly, and the
 * models it ships with models.json. The folder is written beside its target and renamed into
 * place, so a failed build never leaves half a playground. Building takes about a second, so
 * `alignkit playground` builds at run time and nothing built is kept in the repository.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputError } from '../errors.ts';
import { isHfDirectory } from '../models/hf-directory.ts';
import { bundleForBrowser } from './bundle.ts';
import type { PlaygroundManifest } from './manifest.ts';
import { PAGE_HTML } from './page-html.ts';

/**
 * The onnxruntime-web files the page loads at run time: WebAssembly and its loader (which also
 * starts the threads), for the plain build and for the WebGPU-capable one (JSEP).
 */
export const ORT_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
];

export interface PlaygroundModel {
  /** shown in the page and used for its folder: letters, digits, - and _ */
  name: string;
  /** an HF model directory */
  dir: string;
}

export interface BuildPlaygroundOptions {
  models: readonly PlaygroundModel[];
  /** the model each role starts with */
  roles: PlaygroundManifest['roles'];
  prompts: readonly string[];
}

export interface BuiltPlayground {
  dir: string;
  files: number;
  bytes: number;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function buildPlayground(outDir: string, options: BuildPlaygroundOptions): Promise<BuiltPlayground> {
  for (const m of options.models) {
    if (!/^[A-Za-z0-9_-]+$/.test(m.name))
      throw inputError(`model name "${m.name}" may hold only letters, digits, - and _`, { field: '--model' });
    if (!isHfDirectory(m.dir))
      throw inputError('not an HF model directory (config.json + *.safetensors)', { file: m.dir, field: '--model' });
  }
  for (const [role, name] of Object.entries(options.roles))
    if (name && !options.models.some((m) => m.name === name))
      throw inputError(`role ${role} names model "${name}", which the playground does not ship`, { field: '--model' });
  const target = resolve(outDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw inputError('exists and is not a directory', { file: outDir });
    if (readdirSync(target).length > 0 && !existsSync(join(target, 'models.json')))
      throw inputError('refusing to replace a non-empty folder that is not a built playground (no models.json)', {
        file: outDir,
      });
  }

  // the page is bundled from this module's own tree: src/ (.ts) in a checkout, dist/ (.js) in a package
  const bundle = await bundleForBrowser(join(here, 'page', `main${extname(fileURLToPath(import.meta.url))}`), {
    minify: true,
  });
  if (bundle.nodeImports.length)
    throw inputError(`the page bundle reaches Node modules: ${bundle.nodeImports.join('; ')}`);

  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'ort'), { recursive: true });
  try {
    writeFileSync(join(tmp, 'index.html'), PAGE_HTML);
    for (const [name, bytes] of bundle.files) writeFileSync(join(tmp, name), bytes);
    const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
    for (const file of ORT_FILES) copyFileSync(join(ortDist, file), join(tmp, 'ort', file));
    const manifest: PlaygroundManifest = { models: [], roles: options.roles, prompts: [...options.prompts] };
    for (const m of options.models) {
      const files = readdirSync(m.dir).filter((f) => statSync(join(m.dir, f)).isFile());
      mkdirSync(join(tmp, 'models', m.name), { recursive: true });
      for (const f of files) copyFileSync(join(m.dir, f), join(tmp, 'models', m.name, f));
      manifest.models.push({ name: m.name, files });
    }
    writeFileSync(join(tmp, 'models.json'), JSON.stringify(manifest, null, 2) + '\n');
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  let files = 0;
  let bytes = 0;
  const count = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) count(path);
      else {
        files++;
        bytes += statSync(path).size;
      }
    }
  };
  count(target);
  return { dir: target, files, bytes };
}
