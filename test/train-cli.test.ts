import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { main, run as cli } from '../src/cli/main.ts';
import { writeRandomLlama } from './helpers/random-models.ts';
import { checkpointedRun, trainKilledAndResumed } from './helpers/kill-and-resume.ts';
import { plainLlamaReference } from './helpers/reference-decoder.ts';
import { STORIES_TOKENIZER } from './helpers/model-wrappers.ts';
import { readHfDirectory } from '../src/models/hf-directory.ts';
import { loadPreferenceData } from '../src/train/data/load-preferences.ts';
import { loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';
import { createRng } from '../src/util/random.ts';
import { readJsonl } from '../src/util/jsonl.ts';
import { softplus } from '../src/train/pair-loss.ts';
import { readAdapters, readRewardModel } from '../src/train/model-directory.ts';
import { loadNativeModel, readLocalCheckpoint } from '../src/lm/load.ts';
import { RewardModel, loadRewardLanguageModel } from '../src/train/reward-model.ts';
import type { ModelConfig } from '../src/models/config.ts';
import type { Weights } from '../src/models/weights.ts';

const trainCli = (argv: readonly string[]) => cli(['train', ...argv]);

const dir = mkdtempSync(join(tmpdir(), 'alignkit-train-cli-'));
const model = join(dir, 'tiny');
writeRandomLlama(model, {
  vocabSize: 512,
  hiddenSize: 16,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  intermediateSize: 24,
  seed: 3,
  std: 0.1,
});
const write = (name: string, lines: unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
};
const pairsFile = () =>
  write('pairs.jsonl', [
    { prompt: 'Tom had a ball.', chosen: ' He was happy.', rejected: ' He was sad.' },
    { prompt: 'The sun was out.', chosen: ' They played.', rejected: ' It was bad.' },
  ]);
const common = (out: string) => ['--model', model, '--tokenizer', STORIES_TOKENIZER, '--out', out, '--quiet'];

/** log p(tokens[from..] | tokens[..from]) in float64, by the plain reference forward pass. */
function sequenceLogp(cfg: ModelConfig, w: Weights, tokens: number[], from: number): number {
  const ref = plainLlamaReference(cfg, w);
  let total = 0;
  for (let i = 0; i < tokens.length - 1; i++) {
    const logits = ref.step(tokens[i]);
    if (i + 1 < from) continue;
    const max = Math.max(...logits);
    let sum = 0;
    for (const v of logits) sum += Math.exp(v - max);
    total += logits[tokens[i + 1]] - max - Math.log(sum);
  }
  return total;
}

test('train dpo --optimizer sgd --steps 1 --batch-size 1 is one exact SGD step: w − lr·∇L, ∇L by float64 finite differences', async () => {
  const data = write('one-pair.jsonl', [
    { prompt: 'Tom had a ball.', chosen: ' He was happy.', rejected: ' He was sad and cried.' },
  ]);
  const out = join(dir, 'sgd');
  const lr = 0.5,
    beta = 0.1;
  assert.equal(
    await trainCli([
      'dpo',
      ...common(out),
      '--data',
      data,
      '--optimizer',
      'sgd',
      '--steps',
      '1',
      '--batch-size',
      '1',
      '--lr',
      String(lr),
      '--beta',
      String(beta),
    ]),
    0,
  );
  const before = readHfDirectory(model);
  const after = readHfDirectory(join(out, 'model'));
  const cfg = before.config;
  const tok = loadTokenizer(STORIES_TOKENIZER);
  const [pair] = loadPreferenceData(data, tok, { maxLength: cfg.maxPositions }).pairs;
  const chosen = [...pair.promptIds, ...pair.chosenIds],
    rejected = [...pair.promptIds, ...pair.rejectedIds];
  const start = pair.promptIds.length;
  const refW = sequenceLogp(cfg, before.weights, chosen, start),
    refL = sequenceLogp(cfg, before.weights, rejected, start);
  const loss = (w: Weights) =>
    softplus(-beta * (sequenceLogp(cfg, w, chosen, start) - refW - (sequenceLogp(cfg, w, rejected, start) - refL)));
  const rng = createRng(5);
  let checked = 0;
  for (const [name, t] of before.weights) {
    const updated = after.weights.get(name)!.data;
    const u = Float64Array.from(t.data, () => rng.normal());
    const norm = Math.hypot(...u);
    let step = 0;
    for (let i = 0; i < u.length; i++) {
      u[i] /= norm;
      step += ((t.data[i] - updated[i]) / lr) * u[i];
    }
    const h = 1e-3;
    const shifted = (s: number): Weights =>
      new Map([
        ...before.weights,
        [name, { shape: t.shape, data: Float32Array.from(t.data, (v, i) => v + s * h * u[i]) }],
      ]);
    const numeric = (loss(shifted(1)) - loss(shifted(-1))) / (2 * h);
    assert.ok(
      Math.abs(step - numeric) <= 2e-3 * Math.abs(numeric) + 2e-6,
      `${name}: (w − w')/lr · u = ${step}, finite differences ${numeric}`,
    );
    checked++;
  }
  assert.equal(checked, before.weights.size);
  const [record] = readJsonl<Record<string, number>>(join(out, 'metrics.jsonl')).map((r) => r.value);
  assert.ok(Math.abs(record.loss - Math.LN2) < 1e-5, 'policy = reference at step 1: loss ln 2');
  assert.equal(record['rewards/accuracies'] <= 1, true);
  assert.equal(record.learning_rate, lr);
});

test('sft with LoRA writes PEFT adapters and a merged model that alignkit loads; rm writes a sequence classifier that scores', async () => {
  const sft = write(
    'sft.jsonl',
    Array.from({ length: 6 }, (_, i) => ({
      prompt: `Story ${i}:`,
      completion: ' Once upon a time there was a cat.',
    })),
  );
  const out = join(dir, 'lora');
  assert.equal(
    await trainCli([
      'sft',
      ...common(out),
      '--data',
      sft,
      '--eval-data',
      sft,
      '--lora-rank',
      '4',
      '--lora-targets',
      'q_proj,v_proj,down_proj',
      '--lr',
      '0.01',
      '--steps',
      '3',
      '--batch-size',
      '2',
    ]),
    0,
  );
  const { adapters, lora } = readAdapters(join(out, 'adapter'));
  assert.deepEqual(lora, { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] });
  assert.deepEqual(
    [...adapters.keys()].sort(),
    ['down_proj', 'q_proj', 'v_proj']
      .flatMap((m) => [
        `model.layers.0.${m.includes('proj') && m !== 'down_proj' ? 'self_attn' : 'mlp'}.${m}.lora_A.weight`,
        `model.layers.0.${m.includes('proj') && m !== 'down_proj' ? 'self_attn' : 'mlp'}.${m}.lora_B.weight`,
      ])
      .sort(),
  );
  const raw = readFileSync(join(out, 'adapter', 'adapter_model.safetensors'));
  assert.ok(
    raw.toString('utf8', 8, 400).includes('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'),
    'PEFT tensor names',
  );
  const config = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8'));
  assert.equal(config.peft_type, 'LORA');
  // the merged model's held-out loss, scored by the inference engine, is the trainer's last evaluation
  const merged = await loadNativeModel(join(out, 'model'));
  const examples = (await import('../src/train/data/load-sft.ts')).loadSftData(sft, merged.tokenizer, {
    maxLength: 64,
  }).examples;
  const scores = await merged.score(examples.map((e) => ({ prefix: e.promptIds, continuation: e.responseIds })));
  await merged.dispose();
  const nll = -scores.reduce((a, s) => a + s.total, 0) / scores.reduce((a, s) => a + s.tokens.length, 0);
  const evals = readJsonl<Record<string, number | string>>(join(out, 'metrics.jsonl'))
    .map((r) => r.value)
    .filter((r) => r.split === 'eval');
  assert.equal(evals.length, 2);
  assert.ok(
    Math.abs(nll - (evals[1]['eval/loss'] as number)) < 1e-4,
    `merged model nll ${nll} vs trainer ${evals[1]['eval/loss']}`,
  );
  assert.ok(
    (evals[1]['eval/loss'] as number) < (evals[0]['eval/loss'] as number),
    'training on the data lowers its loss',
  );
  const base = readHfDirectory(model).weights;
  const mergedW = readHfDirectory(join(out, 'model')).weights;
  assert.deepEqual(
    mergedW.get('model.layers.0.self_attn.k_proj.weight')!.data,
    base.get('model.layers.0.self_attn.k_proj.weight')!.data,
    'untargeted weights unchanged',
  );
  assert.notDeepEqual(
    mergedW.get('model.layers.0.self_attn.q_proj.weight')!.data,
    base.get('model.layers.0.self_attn.q_proj.weight')!.data,
  );

  const rmOut = join(dir, 'rm');
  const pairs = pairsFile();
  assert.equal(
    await trainCli([
      'rm',
      ...common(rmOut),
      '--data',
      pairs,
      '--eval-data',
      pairs,
      '--lr',
      '0.01',
      '--steps',
      '2',
      '--batch-size',
      '2',
    ]),
    0,
  );
  const rmConfig = JSON.parse(readFileSync(join(rmOut, 'model', 'config.json'), 'utf8'));
  assert.deepEqual(rmConfig.architectures, ['LlamaForSequenceClassification']);
  assert.equal(rmConfig.num_labels, 1);
  const rm = readRewardModel(join(rmOut, 'model'));
  assert.equal(rm.score.length, 16);
  const scorer = await RewardModel.load(join(rmOut, 'model'));
  const tok = scorer.tokenizer;
  const loaded = loadPreferenceData(pairs, tok, { maxLength: 64 }).pairs;
  const rewards = await scorer.scores(
    loaded.flatMap((p) => [
      [...p.promptIds, ...p.chosenIds],
      [...p.promptIds, ...p.rejectedIds],
    ]),
  );
  await scorer.dispose();
  const lastEval = readJsonl<Record<string, number | string>>(join(rmOut, 'metrics.jsonl'))
    .map((r) => r.value)
    .filter((r) => r.split === 'eval')
    .pop()!;
  const chosenMean = (rewards[0] + rewards[2]) / 2;
  assert.ok(
    Math.abs(chosenMean - (lastEval['eval/rewards/chosen'] as number)) < 1e-4,
    'the saved head scores as the trainer evaluated',
  );
  const asLm = await loadRewardLanguageModel(join(rmOut, 'model'));
  const [native] = await asLm.scalarHead([[...loaded[0].promptIds, ...loaded[0].chosenIds]]);
  assert.ok(Math.abs(native - rewards[0]) < 1e-5, `native scalar head ${native} vs reward graph ${rewards[0]}`);
  assert.equal((await asLm.sample({ prompt: 'Tom', maxNewTokens: 3, temperature: 0 })).length, 1);
  await asLm.dispose();
  // a language model can start from the reward model (its head is left behind)
  const fromRm = join(dir, 'sft-from-rm');
  assert.equal(
    await trainCli([
      'sft',
      '--model',
      join(rmOut, 'model'),
      '--out',
      fromRm,
      '--quiet',
      '--data',
      sft,
      '--steps',
      '1',
      '--batch-size',
      '2',
    ]),
    0,
  );
  assert.deepEqual(JSON.parse(readFileSync(join(fromRm, 'model', 'config.json'), 'utf8')).architectures, [
    'LlamaForCausalLM',
  ]);
});

test('a killed run resumes from its last checkpoint with the same optimizer state and data order', async () => {
  const { sftObjective } = await import('../src/train/sft-objective.ts');
  const { loadSftData } = await import('../src/train/data/load-sft.ts');
  const ckpt = readLocalCheckpoint(model, STORIES_TOKENIZER);
  const data = loadSftData(
    write(
      'resume.jsonl',
      Array.from({ length: 10 }, (_, i) => ({
        prompt: `Tale ${i}.`,
        completion: ` The ${i % 3 ? 'dog' : 'cat'} ran home.`,
      })),
    ),
    ckpt.tokenizer,
    { maxLength: 64 },
  ).examples;
  const options = (outDir: string) => ({
    objective: sftObjective(),
    model: { ...ckpt, weights: readLocalCheckpoint(model, STORIES_TOKENIZER).weights },
    train: data,
    ...checkpointedRun,
    lr: 0.01,
    outDir,
    modelKind: 'causal-lm' as const,
  });
  const straight = join(dir, 'straight');
  const killed = join(dir, 'killed');
  await trainKilledAndResumed(options, straight, killed);
  const a = readHfDirectory(join(straight, 'model')).weights;
  const b = readHfDirectory(join(killed, 'model')).weights;
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} equal after resume`);
  assert.ok(JSON.parse(readFileSync(join(killed, 'summary.json'), 'utf8')).plots.length >= 2);
});

test('a non-finite loss stops training with a clear message and keeps the last good checkpoint', async () => {
  const out = join(dir, 'nan');
  const sft = write(
    'nan.jsonl',
    Array.from({ length: 4 }, (_, i) => ({ prompt: `P${i}`, completion: ' a b c' })),
  );
  const lines: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => {
    lines.push(a.join(' '));
  };
  try {
    assert.equal(
      await main([
        'train',
        'sft',
        ...common(out),
        '--data',
        sft,
        '--lr',
        '1e30',
        '--optimizer',
        'sgd',
        '--steps',
        '4',
        '--batch-size',
        '1',
        '--save-every',
        '1',
      ]),
      1,
    );
  } finally {
    console.error = error;
  }
  assert.match(
    lines.join('\n'),
    /step 2: the (loss|gradient norm) is (NaN|Infinity|-Infinity); training stopped before applying it \(the last good checkpoint is .*checkpoint-1 \(step 1\)\)/,
  );
  assert.ok(existsSync(join(out, 'checkpoint-1', 'model', 'model.safetensors')));
  assert.ok(!existsSync(join(out, 'checkpoint-2')) && !existsSync(join(out, 'model')));
});

test('bad flags and inputs give one-line errors naming the flag or file', async () => {
  const pairs = pairsFile();
  const cases: [string[], RegExp][] = [
    [['dpo', ...common(join(dir, 'b1')), '--data', pairs, '--beta', '0'], /--beta expects a positive number/],
    [
      ['dpo', ...common(join(dir, 'b2')), '--data', pairs, '--steps', '2', '--epochs', '1'],
      /--epochs or --steps, not both/,
    ],
    [['sft', ...common(join(dir, 'b3')), '--data', join(dir, 'nope.jsonl')], /nope\.jsonl.*file not found/],
    [['sft', ...common(join(dir, 'b4')), '--data', pairs], /expected "prompt" and "completion"/],
    [
      ['rm', ...common(join(dir, 'b5')), '--data', pairs, '--optimizer', 'adam'],
      /--optimizer expects one of adamw, sgd/,
    ],
    [['sft', '--model', model, '--tokenizer', STORIES_TOKENIZER, '--data', pairs], /missing required flag --out/],
    [
      ['dpo', ...common(join(dir, 'b6')), '--data', pairs, '--lora-rank', '2', '--lora-targets', 'nothing'],
      /no weight matches the LoRA targets nothing/,
    ],
    [['dpo', ...common(join(dir, 'b7')), '--data', pairs, '--max-length', '100000'], /longer than the model's context/],
    [['ppo', ...common(join(dir, 'b8'))], /unknown objective "ppo"/],
  ];
  for (const [argv, expected] of cases) await assert.rejects(trainCli(argv), expected, argv.join(' '));
});
