/**
 * alignkit as users get it: `npm pack` (which builds dist/ through `prepare`), the tarball
 * installed into an empty project, and there: JavaScript importing `alignkit` and scoring a
 * string with an embedded model, a TypeScript file type-checked against the published types,
 * the installed `alignkit` bin, `generateText` from `ai` through `alignkit/ai-sdk`, and Node's
 * own error for a subpath the package does not export. The slowest test (about a minute and a
 * half on 2 busy cores, most of it `npm install` from npm's cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve('.');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

/** npm's variables from a surrounding `npm test` would point the child npm at this repository. */
const cleanEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key))),
  // onnxruntime-node's install script would fetch GPU files from outside the npm registry; the CPU binary is in the package
  ONNXRUNTIME_NODE_INSTALL: 'skip',
});

function sh(cmd: string, args: readonly string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

const CONSUMER_TS = `import { loadModel, weakToStrongSearch, EMBEDDED_MODELS, type LanguageModel, type SteerResult, type WeakToStrongSearchOptions } from 'alignkit';
import { trainDpo, type TrainDpoOptions } from 'alignkit/train';
import { serve, type ServeOptions } from 'alignkit/serve';
import { evaluateSafety } from 'alignkit/eval';
import { collectProbeData } from 'alignkit/probe';
import { bestOfN } from 'alignkit/steer';
import { createAlignkit, type AlignkitProvider } from 'alignkit/ai-sdk';

const options: WeakToStrongSearchOptions = { beams: 2, chunkLength: Infinity, maxNewTokens: 8 };
const large: LanguageModel = await loadModel(EMBEDDED_MODELS.large);
const result: SteerResult = await weakToStrongSearch({ large, tuned: large, untuned: large }, 'Hi', options);
const text: string = result.text;
const dpo: TrainDpoOptions = { model: 'm', data: 'd.jsonl', out: 'o', beta: 0.1, loss: 'hinge' };
const served: ServeOptions = { port: 0, models: { story: large } };
const provider: AlignkitProvider = createAlignkit({ promptFormat: 'text' });
// @ts-expect-error beams is a number: the options are typed, not any
const wrong: WeakToStrongSearchOptions = { beams: 'two' };
// @ts-expect-error loss is one of sigmoid, hinge
const wrongLoss: TrainDpoOptions = { model: 'm', data: 'd', out: 'o', loss: 'ipo' };
export { trainDpo, serve, evaluateSafety, collectProbeData, bestOfN, dpo, served, provider, text, wrong, wrongLoss };
`;

test(
  'the packed tarball, installed in an empty project, works from JavaScript, TypeScript, its bin and the AI SDK',
  { timeout: 300_000 },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'alignkit-package-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));

    const [packed] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', dir], REPO));
    const tops = new Set((packed.files as { path: string }[]).map((f) => f.path.split('/')[0]));
    assert.deepEqual([...tops].sort(), ['LICENSE', 'README.md', 'bin', 'dist', 'embedded', 'package.json']);
    assert.ok(!(packed.files as { path: string }[]).some((f) => f.path.endsWith('.ts') && !f.path.endsWith('.d.ts')));

    const project = join(dir, 'project');
    sh('mkdir', [project], dir);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const ai = `ai@${pkg.devDependencies.ai}`;
    sh('npm', ['install', join(dir, packed.filename), ai, '--prefer-offline', '--no-audit', '--no-fund'], project);

    // (a) plain JavaScript: import alignkit, score a string with the embedded model
    writeFileSync(
      join(project, 'score.mjs'),
      `import { loadModel, EMBEDDED_MODELS } from 'alignkit';
const model = await loadModel(EMBEDDED_MODELS.small);
const [scored] = await model.score([{ prefix: 'Once upon a time', continuation: ' there was a dog' }]);
console.log(JSON.stringify(scored));
await model.dispose();`,
    );
    const scored = JSON.parse(sh(process.execPath, ['score.mjs'], project));
    assert.ok(scored.tokens.length > 0 && Number.isFinite(scored.total) && scored.total < 0, JSON.stringify(scored));

    // (b) TypeScript against the published .d.ts, with the repository's compiler
    writeFileSync(join(project, 'check.ts'), CONSUMER_TS);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // @ai-sdk/provider's own .d.ts needs @types/json-schema, which it does not install
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules/@types')],
        },
        files: ['check.ts'],
      }),
    );
    sh(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);

    // (c) the installed bin: compiled JavaScript, no tsx in the project
    const bin = join(project, 'node_modules/.bin/alignkit');
    assert.equal(sh(bin, ['--version'], project).trim(), pkg.version);
    const small = join(project, 'node_modules/alignkit/embedded/small');
    const generated = sh(
      bin,
      ['generate', '--model', small, '--prompt', 'Once', '--max-new-tokens', '1', '--temperature', '0'],
      project,
    );
    assert.match(generated, /^Once\S*/);
    assert.throws(() => execFileSync(process.execPath, ['-e', "import('tsx')"], { cwd: project, stdio: 'pipe' }));

    // (d) generateText from the real ai package through alignkit/ai-sdk
    writeFileSync(
      join(project, 'generate.mjs'),
      `import { generateText } from 'ai';
import { createAlignkit } from 'alignkit/ai-sdk';
import { EMBEDDED_MODELS } from 'alignkit';
const alignkit = createAlignkit();
const r = await generateText({ model: alignkit(EMBEDDED_MODELS.large), prompt: 'Once upon a time', maxOutputTokens: 5, seed: 1 });
console.log(JSON.stringify({ text: r.text, finishReason: r.finishReason, outputTokens: r.usage.outputTokens }));
await alignkit.close();`,
    );
    const answer = JSON.parse(sh(process.execPath, ['generate.mjs'], project));
    assert.ok(answer.text.length > 0, JSON.stringify(answer));
    assert.equal(answer.outputTokens, answer.finishReason === 'length' ? 5 : answer.outputTokens);

    // a subpath that is not exported fails with Node's own error
    const internal = spawnSync(
      process.execPath,
      ['-e', "import('alignkit/dist/lm/load.js').catch((e) => { console.log(e.code); })"],
      {
        cwd: project,
        encoding: 'utf8',
      },
    );
    assert.equal(internal.stdout.trim(), 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  },
);
