/**
 * alignkit's GGUF exports checked against llama.cpp itself (node-llama-cpp, a dev dependency):
 * llama.cpp loads the f32 / q8_0 / q4_0 files of stories260K and the embedded models, tokenizes
 * text as alignkit's reading of the same file does, and gives the same next-token distributions —
 * exactly (to float32 rounding) and the same greedy text at f32; within the format's tolerance
 * quantized (llama.cpp also rounds each layer's activations to 8 bits for Q8_0/Q4_0 weights, which
 * an engine that dequantizes weights does not). Prints the mean NLL of the TinyStories sample
 * under stories260K at each precision; a random-weight GPT-2 with the real GPT-2 tokenizer covers `gpt2`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeModel, readLocalCheckpoint } from '../src/lm/load.ts';
import { saveGguf } from '../src/lm/save-gguf.ts';
import { longTests } from './helpers/stories-data.ts';
import { writeRandomGpt2 } from './helpers/random-models.ts';
import { writeGpt2TokenizerDir } from './helpers/gpt2-tokenizer.ts';
import {
  GGUF_PRECISIONS as PRECISIONS,
  GGUF_SOURCES as SOURCES,
  agreement,
  cpuLlama,
  exportGgufFiles,
  importLlamaCpp,
  meanNll,
  openLlamaCpp as openWith,
  tinyStoriesParagraphs as stories,
  type Llama,
} from './helpers/llama-cpp-agreement.ts';

const llamaCpp = await importLlamaCpp();
const skip = llamaCpp === null && 'node-llama-cpp is not installed (a dev dependency)';

let dir = '';
let llama: Llama | null = null;
let files = new Map<string, string>();

before(async () => {
  if (!llamaCpp) return;
  dir = mkdtempSync(join(tmpdir(), 'alignkit-llama-cpp-'));
  files = exportGgufFiles(dir);
  llama = await cpuLlama(llamaCpp);
});

after(async () => {
  await llama?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const openLlamaCpp = (file: string) => openWith(llama!, file);

for (const name of Object.keys(SOURCES)) {
  test(`${name}: llama.cpp tokenizes like alignkit's reading of the same GGUF`, { skip }, async () => {
    const file = files.get(`${name} f32`)!;
    const ours = await loadNativeModel(file);
    const theirs = await openLlamaCpp(file);
    try {
      for (const text of [...stories().slice(0, 40), 'Tom said, "Wow! 3 €s é中😀"\n\n  x', ' leading space']) {
        const expected = ours.tokenizer.encode(text, { addBos: false });
        assert.deepEqual(theirs.model.tokenize(text, false), expected, JSON.stringify(text.slice(0, 50)));
        assert.equal(theirs.model.detokenize(expected as never[]), text);
      }
    } finally {
      await theirs.dispose();
      await ours.dispose();
    }
  });

  for (const precision of PRECISIONS) {
    test(`${name} ${precision}: llama.cpp and alignkit agree on the same file`, { skip }, async () => {
      const file = files.get(`${name} ${precision}`)!;
      const ours = await loadNativeModel(file);
      const theirs = await openLlamaCpp(file);
      try {
        const { prompt, greedy, sameArgmax, positions, meanDelta: mean, maxDelta } = await agreement(ours, theirs);
        if (precision === 'f32') {
          const [sample] = await ours.sample({ prompt, maxNewTokens: 40, temperature: 0 });
          assert.deepEqual(sample.tokens, greedy.slice(0, sample.tokens.length), 'greedy tokens');
        }
        console.log(
          `${name} ${precision}: argmax agrees at ${sameArgmax}/${positions} positions; |Δ log p| of llama.cpp's top-5 tokens: mean ${mean.toExponential(2)}, max ${maxDelta.toExponential(2)}`,
        );
        // measured here: f32 ~2e-6 mean; quantized 6e-3…3.5e-2 mean, up to 0.21 max (stories260K's 64-wide
        // rows make llama.cpp's 8-bit activations coarsest)
        const tolerance = {
          f32: { mean: 2e-5, max: 2e-4, argmax: 1 },
          q8_0: { mean: 0.05, max: 0.3, argmax: 0.95 },
          q4_0: { mean: 0.05, max: 0.3, argmax: 0.95 },
        }[precision];
        assert.ok(mean <= tolerance.mean && maxDelta <= tolerance.max, `|Δ log p| mean ${mean}, max ${maxDelta}`);
        assert.ok(sameArgmax >= tolerance.argmax * positions, `argmax agrees at ${sameArgmax}/${positions}`);
      } finally {
        await theirs.dispose();
        await ours.dispose();
      }
    });
  }
}

test('stories260K: llama.cpp reproduces llama2.c greedy text from the f32 export', { skip }, async () => {
  const theirs = await openLlamaCpp(files.get('stories260K f32')!);
  try {
    const tokens = await theirs.greedy([1], 200);
    const expected = readFileSync('data/stories260K/greedy-200.expected.txt', 'utf8').trimEnd();
    assert.equal(theirs.model.detokenize(tokens as never[]).trimEnd(), expected);
  } finally {
    await theirs.dispose();
  }
});

test(
  'stories260K: mean NLL of the TinyStories sample at f32, q8_0 and q4_0 (alignkit on the GGUF files)',
  { skip },
  async () => {
    const paragraphs = longTests ? stories() : stories().slice(0, 200);
    const nll: Record<string, number> = {};
    for (const precision of PRECISIONS)
      nll[precision] = await meanNll(files.get(`stories260K ${precision}`)!, paragraphs);
    const change = (p: string) => ((nll[p] / nll.f32 - 1) * 100).toFixed(2);
    console.log(
      `mean NLL (nats/token) of ${paragraphs.length} TinyStories paragraphs under stories260K: f32 ${nll.f32.toFixed(4)}, q8_0 ${nll.q8_0.toFixed(4)} (${change('q8_0')} %), q4_0 ${nll.q4_0.toFixed(4)} (${change('q4_0')} %)`,
    );
    assert.ok(Math.abs(nll.q8_0 / nll.f32 - 1) < 0.01, 'q8_0 changes the NLL by < 1 %');
    assert.ok(Math.abs(nll.q4_0 / nll.f32 - 1) < 0.05, 'q4_0 changes the NLL by < 5 %');
  },
);

test(
  'a random-weight GPT-2 with the real GPT-2 tokenizer: llama.cpp tokenizes and decodes greedily like alignkit',
  { skip },
  async () => {
    const hf = join(dir, 'gpt2-hf');
    writeRandomGpt2(hf, { vocabSize: 50257, hiddenSize: 64, numLayers: 2, maxPositions: 128, std: 0.3 });
    writeGpt2TokenizerDir(hf);
    const file = join(dir, 'gpt2.gguf');
    saveGguf(file, readLocalCheckpoint(hf), 'f32');
    const ours = await loadNativeModel(file);
    const theirs = await openLlamaCpp(file);
    try {
      for (const text of ["Hello world, it's 2024! Don't   stop.", ...stories().slice(0, 10)])
        assert.deepEqual(theirs.model.tokenize(text, false), ours.tokenizer.encode(text, { addBos: false }));
      const prompt = ours.tokenizer.encode('Hello world');
      const [sample] = await ours.sample({ prompt, maxNewTokens: 20, temperature: 0 });
      assert.deepEqual(await theirs.greedy(prompt, 20), sample.tokens);
    } finally {
      await theirs.dispose();
      await ours.dispose();
    }
  },
);
