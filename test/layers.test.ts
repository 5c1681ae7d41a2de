/**
 * The layer rule of the README ("How it is built"): every import in src/ points down the
 * README's list of layers (or stays in its own layer), and decode/, probe/ and eval/ see models
 * only through lm/. The list is read from the README, so the README and the code cannot drift.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

const SRC = 'src';

/** The layers in the README's code block under "How it is built", lowest first. */
function readmeLayers(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## How it is built'));
  const block = /```\n(src\/\n[\s\S]*?)```/.exec(section);
  assert.ok(block, 'the README shows the src/ layers in a code block under "How it is built"');
  return [...block[1].matchAll(/^ {2}([a-z-]+)\/ /gm)].map((m) => m[1]);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file imports (static, re-exports, type-only and dynamic), as written. */
export function importsOf(text: string): string[] {
  const clause = String.raw`(?:type\s+)?(?:\{[^}]*\}|\*\s+as\s+\w+|\*|\w+(?:\s*,\s*\{[^}]*\})?)`;
  const patterns = [
    new RegExp(String.raw`^\s*(?:import|export)\s+${clause}\s*from\s*'([^']+)'`, 'gm'),
    /^\s*import\s+'([^']+)'/gm,
    /\bimport\(\s*'([^']+)'\s*\)/g,
  ];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[1]));
}

/** The layer of a path under src/: its first folder; errors.ts sits with util (the bottom), index.ts on top. */
function layerOf(path: string): string {
  const [first] = relative(SRC, path).split(sep);
  if (first === 'errors.ts') return 'util';
  if (first === 'index.ts') return 'index';
  return first;
}

test("the README's layer list names every folder of src/, run/ included", () => {
  const layers = readmeLayers();
  assert.ok(layers.includes('run'), layers.join(', '));
  const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
  for (const folder of folders) assert.ok(layers.includes(folder), `src/${folder} is not in the README's layer list`);
});

/** The imports of `files` ([path, text]) that break the layer rule, one line each. */
function violations(files: Iterable<[string, string]>, layers: readonly string[]): string[] {
  const rank = (layer: string) => (layer === 'index' ? layers.length : layers.indexOf(layer));
  const throughLm = new Set(['decode', 'probe', 'eval']);
  const found: string[] = [];
  for (const [file, text] of files) {
    const from = layerOf(file);
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith(SRC + sep)) continue; // package.json and the like
      const to = layerOf(target);
      if (to === from) continue;
      if (rank(to) > rank(from)) found.push(`${file} imports ${target} (${from}/ → ${to}/ points up)`);
      else if (throughLm.has(from) && (to === 'models' || to === 'engine'))
        found.push(`${file} imports ${target} (${from}/ sees models only through lm/)`);
    }
  }
  return found;
}

test('every import in src/ points down the layer order; decode/, probe/ and eval/ reach models only through lm/', () => {
  const files = sourceFiles(SRC).map((f): [string, string] => [f, readFileSync(f, 'utf8')]);
  assert.deepEqual(violations(files, readmeLayers()), []);
});

test('the import reader finds every form of import, and the check would catch an upward one', () => {
  const text = [
    "import { a } from './a.ts';",
    "import type { B } from '../b/b.ts';",
    "import * as c from './c.ts';",
    "import d, { e } from './d.ts';",
    'import { ',
    '  f, ',
    '  type G, ',
    " } from '../f/f.ts';",
    "export { h } from './h.ts';",
    "export * from './i.ts';",
    "import './side-effect.ts';",
    "const j = await import('../j/j.ts');",
    "// a comment that mentions from './not-an-import.ts' is not an import",
  ].join('\n');
  assert.deepEqual(importsOf(text).sort(), [
    '../b/b.ts',
    '../f/f.ts',
    '../j/j.ts',
    './a.ts',
    './c.ts',
    './d.ts',
    './h.ts',
    './i.ts',
    './side-effect.ts',
  ]);
  const layers = readmeLayers();
  const found = violations(
    [
      [join(SRC, 'lm', 'x.ts'), "import type { SteerRun } from '../decode/steer-run.ts';"],
      [join(SRC, 'probe', 'y.ts'), "import { float16ToFloat32 } from '../models/half-precision.ts';"],
      [join(SRC, 'train', 'z.ts'), "import { RunSession } from '../run/run-session.ts';"],
    ],
    layers,
  );
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0], /lm\/ → decode\/ points up/);
  assert.match(found[1], /probe\/ sees models only through lm\//);
});

test('no module reaches a sibling in src/ by its .ts name (the published dist/ holds .js: use siblingModule)', () => {
  const offenders = sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/new URL\(\s*'(\.{1,2}\/[^']*\.ts)'/g)]
      .map((m) => normalize(join(dirname(file), m[1])))
      .filter((target) => target.startsWith(SRC + sep))
      .map((target) => `${file} → ${target}`),
  );
  assert.deepEqual(offenders, []);
});
