/**
 * Bundles browser code of alignkit with esbuild. The two boundary modules are swapped for their
 * browser sides, as a package.json "browser" field would: engine/session.ts (onnxruntime-node)
 * becomes engine/session-web.ts (onnxruntime-web) and util/io.ts (node:fs, node:path) becomes
 * util/io-browser.ts (an in-memory file tree). Any other module that still reaches for Node (a
 * `node:` import, a Node built-in, onnxruntime-node) is refused by name with the importing file.
 */
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { AlignkitError } from '../errors.ts';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Node-side module → its browser side (paths relative to src/). */
export const BROWSER_SWAPS: Readonly<Record<string, string>> = {
  'engine/session.ts': 'engine/session-web.ts',
  'util/io.ts': 'util/io-browser.ts',
};

const NODE_ONLY = new Set([...builtinModules, 'onnxruntime-node']);

/** Whether an import specifier names a Node built-in or a Node-only package. */
export function isNodeOnly(specifier: string): boolean {
  return specifier.startsWith('node:') || NODE_ONLY.has(specifier.split('/')[0]);
}

export interface BrowserBundle {
  /** bundled JavaScript (ESM) by output file name */
  files: Map<string, Uint8Array>;
  /** every module in the bundle, relative to the repository (src/…, node_modules/…) */
  modules: string[];
  /** `specifier (imported by file)` for each Node-only import found; the bundle is unusable if any */
  nodeImports: string[];
}

export interface BundleOptions {
  /** minify (the playground) or keep readable (tests) */
  minify?: boolean;
}

/**
 * Bundles `entry` for browsers. Node-only imports are collected rather than failing esbuild's
 * own resolution, so every offender is listed at once.
 */
export async function bundleForBrowser(entry: string, options: BundleOptions = {}): Promise<BrowserBundle> {
  const nodeImports: string[] = [];
  // .ts in a checkout, .js once compiled into a package
  const swaps = new Map(
    Object.entries(BROWSER_SWAPS).flatMap(([from, to]) =>
      ['.ts', '.js'].map((ext) => [join(SRC, from.replace(/\.ts$/, ext)), join(SRC, to.replace(/\.ts$/, ext))]),
    ),
  );
  const boundary: esbuild.Plugin = {
    name: 'alignkit-browser-boundary',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (isNodeOnly(args.path)) {
          nodeImports.push(`${args.path} (imported by ${relative(process.cwd(), args.importer)})`);
          return { path: args.path, external: true };
        }
        if (!args.path.startsWith('.') && !isAbsolute(args.path)) return undefined;
        const swapped = swaps.get(resolve(args.resolveDir, args.path));
        return swapped ? { path: swapped } : undefined;
      });
    },
  };
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      outdir: 'out',
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      // onnxruntime-web loads its WebAssembly and the threads' worker script from wasmPaths
      conditions: ['onnxruntime-web-use-extern-wasm'],
      minify: options.minify ?? false,
      metafile: true,
      logLevel: 'silent',
      plugins: [boundary],
    });
  } catch (e) {
    const errors = (e as esbuild.BuildFailure).errors ?? [];
    const first = errors[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}: ` : '';
    throw new AlignkitError('internal', `bundling ${entry} failed: ${where}${first?.text ?? (e as Error).message}`);
  }
  const files = new Map(result.outputFiles.map((f) => [relative(join(process.cwd(), 'out'), f.path), f.contents]));
  return { files, modules: Object.keys(result.metafile.inputs), nodeImports };
}
