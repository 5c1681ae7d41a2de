import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { configToHf } from '../src/models/config.ts';
import { isHfDirectory, readHfDirectory, writeHfDirectory } from '../src/models/hf-directory.ts';
import { INDEX_FILE_NAME, readSafetensorsHeader, writeSafetensors } from '../src/models/safetensors.ts';
import { expectedWeightShapes } from '../src/models/weight-shapes.ts';
import type { Weights } from '../src/models/weights.ts';
import {
  randomGpt2Config,
  randomLlamaConfig,
  randomWeights,
  writeRandomGpt2,
  writeRandomLlama,
} from './helpers/random-models.ts';
import { assertNamedError } from './helpers/named-error.ts';

const root = mkdtempSync(join(tmpdir(), 'alignkit-hfdir-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (name = 'model') => join(mkdtempSync(join(root, `case${counter++}-`)), name);

function assertSameWeights(actual: Weights, expected: Weights): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, t] of expected) assert.deepEqual(actual.get(name), t, name);
}

test('random llama, qwen2, mistral and gpt2 models round-trip through HF directories', () => {
  const cases = [
    () => writeRandomLlama(fresh(), { family: 'llama', seed: 1 }),
    () => writeRandomLlama(fresh(), { family: 'llama', seed: 2, attentionBias: true, tieWordEmbeddings: true }),
    () => writeRandomLlama(fresh(), { family: 'qwen2', seed: 3, numKvHeads: 1 }),
    () => writeRandomLlama(fresh(), { family: 'mistral', seed: 4, slidingWindow: 16 }),
    () => writeRandomGpt2(fresh(), { seed: 5 }),
  ];
  for (const make of cases) {
    const dirBefore = counter;
    const written = make();
    const dir = join(
      root,
      readdirSync(root).find((d) => d.startsWith(`case${dirBefore}-`))!,
      'model',
    );
    assert.ok(isHfDirectory(dir));
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'generation_config.json', 'model.safetensors']);
    const back = readHfDirectory(dir);
    assert.deepEqual(back.config, written.config);
    assertSameWeights(back.weights, written.weights);
    const generation = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8'));
    assert.equal(generation.eos_token_id, written.config.eosTokenId);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), configToHf(written.config));
  }
});

test('random models are deterministic, with norms at 1 and small random matrices', () => {
  const cfg = randomLlamaConfig({ family: 'qwen2' });
  const a = randomWeights(cfg, 7, 0.02);
  assertSameWeights(randomWeights(cfg, 7, 0.02), a);
  assert.notDeepEqual(randomWeights(cfg, 8, 0.02).get('model.embed_tokens.weight'), a.get('model.embed_tokens.weight'));
  assert.ok(a.get('model.layers.0.input_layernorm.weight')!.data.every((v) => v === 1));
  const q = a.get('model.layers.0.self_attn.q_proj.weight')!.data;
  const std = Math.sqrt(q.reduce((s, v) => s + v * v, 0) / q.length);
  assert.ok(Math.abs(std - 0.02) < 0.003, `std ${std}`);
  assert.ok(a.get('model.layers.0.self_attn.q_proj.bias')!.data.some((v) => v !== 0));
  const g = randomWeights(randomGpt2Config(), 1);
  assert.ok(g.get('transformer.h.0.ln_1.bias')!.data.every((v) => v === 0));
  assert.ok(g.get('transformer.ln_f.weight')!.data.every((v) => v === 1));
});

test('sharded save: index plus shards, read back identical', () => {
  const dir = fresh();
  const written = writeRandomLlama(dir, {
    seed: 9,
    hiddenSize: 64,
    numHeads: 4,
    intermediateSize: 96,
    numLayers: 3,
    shardBytes: 40_000,
  });
  const files = readdirSync(dir);
  const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
  assert.ok(shards.length >= 3, `files: ${files}`);
  assert.ok(files.includes(INDEX_FILE_NAME));
  assert.ok(!files.includes('model.safetensors'));
  assertSameWeights(readHfDirectory(dir).weights, written.weights);
});

test('float16 and bfloat16 saves: torch_dtype follows, values are what the file holds', () => {
  for (const [dtype, torchDtype] of [
    ['F16', 'float16'],
    ['BF16', 'bfloat16'],
  ] as const) {
    const dir = fresh();
    const written = writeRandomGpt2(dir, { seed: 10, dtype });
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).torch_dtype, torchDtype);
    assert.ok(readSafetensorsHeader(join(dir, 'model.safetensors')).tensors.every((t) => t.dtype === dtype));
    const back = readHfDirectory(dir);
    assert.equal(back.config.torchDtype, torchDtype);
    assertSameWeights(back.weights, written.weights);
  }
});

test('GPT-2 hub-style files (no transformer. prefix, attn.bias buffers) load under prefixed names', () => {
  const cfg = randomGpt2Config({ numLayers: 2 });
  const weights = randomWeights(cfg, 11);
  const dir = fresh();
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configToHf(cfg)));
  const hubStyle: Weights = new Map([...weights].map(([name, t]) => [name.replace(/^transformer\./, ''), t]));
  hubStyle.set('h.0.attn.bias', { shape: [1, 1, 64, 64], data: new Float32Array(64 * 64) });
  writeSafetensors(join(dir, 'model.safetensors'), hubStyle);
  const back = readHfDirectory(dir);
  assertSameWeights(back.weights, weights);
  assert.ok(back.weights.has('transformer.h.1.mlp.c_fc.weight'));
});

test('a tied lm_head is not written; an untied one is', () => {
  const cfg = randomLlamaConfig({ tieWordEmbeddings: true });
  const weights = randomWeights(cfg, 12);
  weights.set('lm_head.weight', weights.get('model.embed_tokens.weight')!);
  const dir = fresh();
  writeHfDirectory(dir, cfg, weights);
  assert.ok(!readSafetensorsHeader(join(dir, 'model.safetensors')).tensors.some((t) => t.name === 'lm_head.weight'));
  assert.equal(readHfDirectory(dir).weights.has('lm_head.weight'), false);
});

test('extra files (tokenizer) are written with the model; bad names are refused', () => {
  const cfg = randomLlamaConfig();
  const weights = randomWeights(cfg, 13);
  const dir = fresh();
  writeHfDirectory(dir, cfg, weights, {
    extraFiles: {
      'tokenizer.json': '{"model": {}}',
      'tokenizer.model': Uint8Array.of(1, 2, 3),
      'extra/notes.txt': 'hi',
    },
    generationConfig: { temperature: 0.7 },
  });
  assert.equal(readFileSync(join(dir, 'tokenizer.json'), 'utf8'), '{"model": {}}');
  assert.deepEqual([...readFileSync(join(dir, 'tokenizer.model'))], [1, 2, 3]);
  assert.equal(readFileSync(join(dir, 'extra/notes.txt'), 'utf8'), 'hi');
  assert.equal(JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8')).temperature, 0.7);
  for (const name of ['../escape.txt', '/abs.txt', 'config.json', 'model.safetensors']) {
    assert.throws(() => writeHfDirectory(fresh(), cfg, weights, { extraFiles: { [name]: 'x' } }), /extra file/);
  }
});

test('an existing model directory is replaced only by a complete new one', () => {
  const dir = fresh();
  writeRandomLlama(dir, { seed: 14 });
  writeFileSync(join(dir, 'stale.txt'), 'from the old save');
  const second = writeRandomLlama(dir, { seed: 15, family: 'qwen2' });
  assert.ok(!existsSync(join(dir, 'stale.txt')));
  assert.equal(readHfDirectory(dir).config.architecture, 'Qwen2ForCausalLM');
  assertSameWeights(readHfDirectory(dir).weights, second.weights);
  assert.deepEqual(readdirSync(resolve(dir, '..')), ['model'], 'no temp or old directories left');

  // a save that fails midway (fault injected in an extra file) leaves the previous model untouched
  const before = readFileSync(join(dir, 'model.safetensors'));
  const cfg = randomLlamaConfig();
  assert.throws(() =>
    writeHfDirectory(dir, cfg, randomWeights(cfg, 16), { extraFiles: { 'tokenizer.json': 42 as unknown as string } }),
  );
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), before);
  assert.deepEqual(readdirSync(resolve(dir, '..')), ['model']);
});

test('a save killed midway never leaves a half-written directory', async () => {
  const dir = fresh('killed');
  const script = join(root, 'slow-save.ts');
  const helpers = resolve('test/helpers/random-models.ts');
  writeFileSync(
    script,
    `import { writeRandomLlama } from ${JSON.stringify(helpers)};\n` +
      `writeRandomLlama(process.argv[2], { seed: Number(process.argv[3]), hiddenSize: 256, numHeads: 4, intermediateSize: 512, numLayers: 8, vocabSize: 512, shardBytes: 1 << 20 });\n`,
  );
  const parent = resolve(dir, '..');
  const temps = () => readdirSync(parent).filter((f) => f.includes('.tmp-'));
  const killDuringSave = async (seed: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(seed)], { stdio: 'ignore' });
    const exited = new Promise((done) => child.on('exit', done));
    // wait until the save is writing into its temp directory, then kill it
    while (child.exitCode === null && !temps().some((f) => readdirSync(join(parent, f)).length > 1)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const wasSaving = child.exitCode === null;
    child.kill('SIGKILL');
    await exited;
    assert.ok(wasSaving, 'the child was killed while saving (not after it ended)');
  };
  await killDuringSave(1);
  assert.equal(existsSync(dir), false, 'a first save that was killed leaves no target directory');
  assert.equal(temps().length, 1);
  const complete = writeRandomLlama(dir, { seed: 2 });
  assert.deepEqual(temps(), [], 'the next save removes what the killed one left');
  await killDuringSave(3);
  assertSameWeights(readHfDirectory(dir).weights, complete.weights);
});

test('a save interrupted between its two renames: reading says where the previous model is', () => {
  const dir = fresh('swapped');
  const parent = resolve(dir, '..');
  const old = join(parent, '.swapped.old-999999999-1');
  writeRandomLlama(old, { seed: 1 });
  assertNamedError(
    () => readHfDirectory(dir),
    dir,
    new RegExp(
      `model directory not found \\(a save was interrupted while replacing it; the previous model is in ${old.replace(/\./g, '\\.')}\\)`,
    ),
  );
  writeRandomLlama(dir, { seed: 2 });
  assert.ok(existsSync(old), 'kept while the target was missing');
  writeRandomLlama(dir, { seed: 3 });
  assert.deepEqual(readdirSync(parent), ['swapped'], 'removed once the target is whole again');
});

test('reading bad directories gives one clear error naming the path', () => {
  assertNamedError(() => readHfDirectory(join(root, 'nope')), join(root, 'nope'), /model directory not found/);
  const empty = fresh();
  mkdirSync(empty);
  assertNamedError(() => readHfDirectory(empty), empty, /not an HF model directory: no config.json/);
  writeFileSync(join(empty, 'config.json'), JSON.stringify(configToHf(randomLlamaConfig())));
  assertNamedError(() => readHfDirectory(empty), empty, /no model.safetensors or model.safetensors.index.json/);
  writeFileSync(join(empty, 'pytorch_model.bin'), 'pickle');
  assertNamedError(() => readHfDirectory(empty), empty, /only PyTorch pickle weights/);
  const file = join(root, 'plain.txt');
  writeFileSync(file, 'x');
  assertNamedError(() => readHfDirectory(file), file, /expected an HF model directory/);

  // config and weights that disagree: the error names the safetensors file, the tensor and both shapes
  const dir = fresh();
  writeRandomLlama(dir, { numKvHeads: 2 });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_key_value_heads: 4 }));
  assertNamedError(
    () => readHfDirectory(dir),
    join(dir, 'model.safetensors'),
    /tensor "model.layers.0.self_attn.k_proj.weight" has shape \[16, 32\], expected \[32, 32\]/,
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 3 }));
  assertNamedError(
    () => readHfDirectory(dir),
    join(dir, 'model.safetensors'),
    /tensor "model.layers.2.input_layernorm.weight" is missing/,
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, architectures: ['PhiForCausalLM'] }));
  assertNamedError(() => readHfDirectory(dir), join(dir, 'config.json'), /unsupported architecture "PhiForCausalLM"/);
});

test('saving refuses weights that do not fit the config, and unrelated directories', () => {
  const cfg = randomLlamaConfig();
  const weights = randomWeights(cfg, 17);
  weights.delete('model.norm.weight');
  const dir = fresh();
  assert.throws(() => writeHfDirectory(dir, cfg, weights), /tensor "model.norm.weight" is missing/);
  assert.equal(existsSync(dir), false);
  const unrelated = fresh();
  mkdirSync(unrelated);
  writeFileSync(join(unrelated, 'thesis.tex'), 'precious');
  assertNamedError(
    () => writeHfDirectory(unrelated, cfg, randomWeights(cfg, 1)),
    unrelated,
    /refusing to replace a non-empty directory/,
  );
  assert.equal(readFileSync(join(unrelated, 'thesis.tex'), 'utf8'), 'precious');
  assert.equal(expectedWeightShapes(cfg).size, randomWeights(cfg, 1).size);
});
