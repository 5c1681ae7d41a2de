/**
 * The playground in a real browser (Debian's Chromium through playwright-core): it loads with no
 * console errors; each method's greedy output in the page equals the Node backend's on the same
 * models, prompt and seed; a run can be stopped mid-way; a model too large for a tab, a file that
 * is not a model, an unsupported architecture and a tokenizer of another model each get a message
 * naming the file, and the page keeps working; a GGUF file picked from disk decodes as in Node; a
 * screenshot with three methods finished shows three result panes side by side with text and
 * rewards. Prints the decode speed in the page (WebAssembly, one thread) against the Node
 * backend's, on the same machine, for each step runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { buildPlayground } from '../src/playground/build-playground.ts';
import { servePlayground } from '../src/playground/serve-playground.ts';
import { loadNativeModel, readLocalCheckpoint } from '../src/lm/load-local.ts';
import { runSteerMethod, type SteerModels } from '../src/decode/steer-methods/index.ts';
import { sentimentReward } from '../src/decode/rewards.ts';
import { valueModelFromHead } from '../src/decode/value-model.ts';
import { requireScalarHead } from '../src/decode/scalar-head.ts';
import { readHfDirectory, writeHfDirectory } from '../src/models/hf-directory.ts';
import { writeSafetensorsCheckpoint } from '../src/models/safetensors.ts';
import { randomInitWeights } from '../src/models/random-init.ts';
import { saveGguf } from '../src/lm/save-gguf.ts';

const CHROMIUM = process.env.ALIGNKIT_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const METHODS = ['sample', 'bon', 'eft', 'w2s', 'ivg', 'ed'];
const KNOBS = { beams: 2, successors: 2, chunkLength: 4, beta: 1 };
const MAX_TOKENS = 12;
const SEED = 3;
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** A value model (LlamaForSequenceClassification) on the small model's body, with a fixed score head. */
function writeValueModel(dir: string): void {
  const small = 'embedded/small';
  const { config, weights } = readHfDirectory(small);
  const score = new Float32Array(config.hiddenSize).map((_, i) => Math.sin(i) / 10);
  weights.set('score.weight', { shape: [1, config.hiddenSize], data: score });
  mkdirSync(dir, { recursive: true });
  writeSafetensorsCheckpoint(dir, weights);
  const raw = JSON.parse(readFileSync(join(small, 'config.json'), 'utf8'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ ...raw, architectures: ['LlamaForSequenceClassification'], num_labels: 1 }),
  );
  for (const f of TOKENIZER_FILES) copyFileSync(join(small, f), join(dir, f));
}

/** The bad picks: each a folder (or file) and the words its message must hold. */
function writeBadPicks(root: string): { kind: 'directory' | 'gguf'; path: string; expect: RegExp }[] {
  const raw = JSON.parse(readFileSync('embedded/small/config.json', 'utf8'));
  const huge = join(root, 'huge-model');
  mkdirSync(huge);
  // a 70B-class config: refused from config.json, before any weights are read
  writeFileSync(
    join(huge, 'config.json'),
    JSON.stringify({
      ...raw,
      hidden_size: 8192,
      intermediate_size: 28672,
      num_hidden_layers: 80,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      vocab_size: 32000,
    }),
  );
  writeFileSync(join(huge, 'model.safetensors'), new Uint8Array(16));
  const notGguf = join(root, 'notes.gguf');
  writeFileSync(notGguf, 'these are notes, not a model\n');
  const mamba = join(root, 'mamba-model');
  mkdirSync(mamba);
  writeFileSync(join(mamba, 'config.json'), JSON.stringify({ ...raw, architectures: ['MambaForCausalLM'] }));
  writeFileSync(join(mamba, 'model.safetensors'), new Uint8Array(16));
  // a model with a 256-token vocabulary, shipped with the 512-token tokenizer of the embedded models
  // (a vocabulary larger than the tokenizer is fine: models pad their embedding rows)
  const mismatched = join(root, 'mismatched-model');
  const { config } = readHfDirectory('embedded/small');
  const small = { ...config, vocabSize: 256, numLayers: 1 };
  writeHfDirectory(mismatched, small, randomInitWeights(small, 1), {
    extraFiles: Object.fromEntries(TOKENIZER_FILES.map((f) => [f, readFileSync(join('embedded/small', f))])),
  });
  return [
    { kind: 'directory', path: huge, expect: /huge-model\/config\.json: .*more than a browser tab can hold/ },
    { kind: 'gguf', path: notGguf, expect: /notes\.gguf: not a GGUF file/ },
    { kind: 'directory', path: mamba, expect: /mamba-model\/config\.json.*MambaForCausalLM/ },
    {
      kind: 'directory',
      path: mismatched,
      expect: /mismatched-model.*512 tokens but the model's vocabulary has 256/,
    },
  ];
}

async function setKnobs(page: Page, values: { temperature: number; maxTokens: number; methods: string[] }) {
  await page.fill('#beams', String(KNOBS.beams));
  await page.fill('#successors', String(KNOBS.successors));
  await page.fill('#chunk-length', String(KNOBS.chunkLength));
  await page.fill('#beta', String(KNOBS.beta));
  await page.fill('#n', '');
  await page.fill('#alpha', '');
  await page.fill('#temperature', String(values.temperature));
  await page.fill('#max-tokens', String(values.maxTokens));
  await page.fill('#seed', String(SEED));
  for (const box of await page.$$('input[name=method]')) await box.setChecked(false);
  for (const m of values.methods) await page.check(`input[name=method][value=${m}]`);
}

const idle = (page: Page, timeout = 300_000) =>
  page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout });

/** What each result pane shows. (No named helpers inside: the evaluated function runs in the page as written.) */
async function panes(page: Page) {
  return page.$$eval('.pane', (els) =>
    els.map((el) => {
      const [text, tps, processed, gold, status] = ['text', 'tps', 'processed', 'gold', 'status'].map(
        (name) => el.querySelector(`.${name}`)!.textContent ?? '',
      );
      const box = el.getBoundingClientRect();
      return {
        method: (el as HTMLElement).dataset.method!,
        done: (el as HTMLElement).dataset.done === 'true',
        text,
        tps,
        processed,
        gold,
        status,
        box: { x: box.x, y: box.y, width: box.width, height: box.height },
      };
    }),
  );
}

test(
  'the playground runs the steering methods in Chromium as the Node backend does',
  { timeout: 900_000 },
  async (t) => {
    if (process.env.ALIGNKIT_SKIP_BROWSER === '1') return t.skip('ALIGNKIT_SKIP_BROWSER=1');
    if (!existsSync(CHROMIUM)) {
      const line = `Chromium is not installed at ${CHROMIUM}; the playground browser test needs it (Debian: apt-get install -y chromium)`;
      if (process.env.ALIGNKIT_REQUIRE_BROWSER === '1') assert.fail(line);
      return t.skip(line);
    }
    const root = mkdtempSync(join(tmpdir(), 'alignkit-playground-test-'));
    const site = join(root, 'site');
    writeValueModel(join(root, 'value'));
    const prompt = 'The old man walked into the';
    await buildPlayground(site, {
      models: [
        { name: 'large', dir: 'embedded/large' },
        { name: 'small', dir: 'embedded/small' },
        { name: 'value', dir: join(root, 'value') },
      ],
      // the small model guides as "tuned" against the large one as "untuned": any pair on one vocabulary will do
      roles: { large: 'large', tuned: 'small', untuned: 'large', base: 'large', aligned: 'small', value: 'value' },
      prompts: [prompt],
    });
    const served = await servePlayground(site);
    const context = await chromium.launchPersistentContext(mkdtempSync(join(root, 'profile-')), {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 1400, height: 1000 },
    });
    const problems: string[] = [];
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      await page.goto(`${served.url}?threads=1`);
      await idle(page, 120_000);

      await t.test('the page loads with no console errors, on WebAssembly with one thread', async () => {
        assert.deepEqual(problems, []);
        assert.equal(await page.textContent('#messages'), '');
        assert.match((await page.textContent('#runtime'))!, /^WebAssembly, 1 thread/);
        assert.equal(await page.$eval('body', (b) => b.dataset.provider), 'wasm');
        assert.equal(await page.$$eval('#models li', (els) => els.length), 3);
        for (const m of METHODS) assert.equal(await page.isDisabled(`input[name=method][value=${m}]`), false, m);
      });

      await t.test("each method's greedy output equals the Node backend's", async () => {
        await page.fill('#prompt', prompt);
        await setKnobs(page, { temperature: 0, maxTokens: MAX_TOKENS, methods: METHODS });
        await page.click('#run');
        await idle(page);
        const inPage = await panes(page);
        const dir = (name: string) => join(site, 'models', name);
        const [large, small, value] = await Promise.all(
          ['large', 'small', 'value'].map((n) => loadNativeModel(dir(n))),
        );
        const models: SteerModels = {
          large,
          tuned: small,
          untuned: large,
          base: large,
          aligned: small,
          value: valueModelFromHead(requireScalarHead(value, 'value')),
        };
        const gold = sentimentReward();
        try {
          for (const method of METHODS) {
            const shown = inPage.find((p) => p.method === method)!;
            assert.ok(shown.done, `${method}: ${shown.status}`);
            const node = await runSteerMethod(method, models, prompt, {
              maxNewTokens: MAX_TOKENS,
              temperature: 0,
              seed: SEED,
              ...KNOBS,
              gold,
            });
            assert.ok(node.text.length > 0, method);
            assert.equal(shown.text, node.text, `${method}: the page's text differs from Node's`);
            const processed = Object.values(node.usage).reduce((a, u) => a + u.processedTokens, 0);
            assert.equal(Number(shown.processed), processed, `${method}: model tokens processed`);
            const [reward] = await gold.score([{ prompt, response: node.text, finishReason: node.finishReason }]);
            assert.equal(shown.gold, reward.toFixed(3), `${method}: gold reward`);
            assert.ok(Number(shown.tps) > 0, `${method}: tokens/s ${shown.tps}`);
          }
        } finally {
          await Promise.all([large, small, value].map((m) => m.dispose()));
        }
      });

      await t.test('a run can be stopped mid-way, and the page runs again after it', async () => {
        // The page runs methods in the registry's order, so weak-to-strong search runs first, then IVG.
        // Even W·K rows for 240 tokens can finish before a click lands on the WebAssembly kernel, so
        // the page's CPU is throttled (Chromium's DevTools emulation) while this run lasts.
        await setKnobs(page, { temperature: 1, maxTokens: 240, methods: ['w2s', 'ivg'] });
        const devtools = await page.context().newCDPSession(page);
        await devtools.send('Emulation.setCPUThrottlingRate', { rate: 50 });
        try {
          await page.click('#run');
          await page.waitForFunction(
            () => (document.querySelector('.pane .text')?.textContent ?? '').length > 0,
            null,
            { timeout: 120_000 },
          );
          await page.click('#stop');
          await idle(page, 120_000);
        } finally {
          await devtools.send('Emulation.setCPUThrottlingRate', { rate: 1 });
        }
        const stopped = await panes(page);
        assert.equal(stopped[0].status, 'stopped');
        assert.equal(stopped[1].status, 'stopped');
        assert.equal(stopped[0].done, false);
        assert.equal(await page.textContent('#messages'), '', 'stopping is not an error');
      });

      await t.test('bad picks get a message naming the file and the problem; the page keeps working', async () => {
        for (const bad of writeBadPicks(root)) {
          const before = (await page.$$('#messages .message')).length;
          await page.setInputFiles(bad.kind === 'gguf' ? '#pick-gguf' : '#pick-directory', bad.path);
          await page.waitForFunction(
            (n) =>
              document.querySelectorAll('#messages .message').length > n && document.body.dataset.state === 'ready',
            before,
            { timeout: 60_000 },
          );
          const newest = await page.textContent('#messages .message');
          assert.match(newest!, bad.expect);
        }
        assert.equal(await page.$$eval('#models li', (els) => els.length), 3, 'the loaded models are untouched');
        assert.equal(await page.$eval('#role-large', (s) => (s as HTMLSelectElement).value), 'large');
      });

      await t.test(
        "a GGUF file picked from disk (q8_0) loads, and its greedy text equals the Node backend's",
        async () => {
          const gguf = join(root, 'small-q8.gguf');
          saveGguf(gguf, readLocalCheckpoint('embedded/small'), 'q8_0');
          await page.setInputFiles('#pick-gguf', gguf);
          await page.waitForFunction(() => document.querySelectorAll('#models li').length === 4, null, {
            timeout: 60_000,
          });
          assert.equal(await page.textContent('#messages .message'), 'loaded small-q8.gguf');
          await page.selectOption('#role-large', 'small-q8.gguf');
          await setKnobs(page, { temperature: 0, maxTokens: MAX_TOKENS, methods: ['sample'] });
          await page.click('#run');
          await idle(page);
          const [shown] = await panes(page);
          const model = await loadNativeModel(gguf);
          try {
            const node = await runSteerMethod('sample', { large: model }, prompt, {
              maxNewTokens: MAX_TOKENS,
              temperature: 0,
              seed: SEED,
            });
            assert.ok(shown.done, shown.status);
            assert.equal(shown.text, node.text);
          } finally {
            await model.dispose();
            await page.selectOption('#role-large', 'large');
          }
        },
      );

      await t.test(
        'a screenshot with three methods finished shows three panes side by side with text and rewards',
        async () => {
          await setKnobs(page, { temperature: 0.7, maxTokens: 16, methods: ['sample', 'eft', 'w2s'] });
          await page.click('#run');
          await idle(page);
          const png = await page.screenshot({ path: join(root, 'three-methods.png') });
          assert.ok(png.length > 10_000);
          const shown = await panes(page);
          assert.deepEqual(
            shown.map((p) => p.method),
            ['sample', 'eft', 'w2s'],
          );
          for (const p of shown) {
            assert.ok(p.done, p.status);
            assert.ok(p.text.trim().length > 0, `${p.method} shows text`);
            assert.match(p.gold, /^-?\d+\.\d{3}$/, `${p.method} shows a gold reward`);
            assert.ok(Number(p.tps) > 0 && Number(p.processed) > 0, `${p.method} shows its speed and tokens processed`);
            assert.ok(p.box.width > 200 && p.box.height > 50, `${p.method} pane is visible`);
          }
          // side by side: one row, left to right
          assert.ok(shown.every((p) => Math.abs(p.box.y - shown[0].box.y) < 1));
          assert.ok(shown[0].box.x < shown[1].box.x && shown[1].box.x < shown[2].box.x);
          assert.deepEqual(problems, []);
        },
      );

      await t.test('decode speed in the page (WebAssembly, one thread) against the Node backend', async () => {
        // each step runtime on both sides: onnxruntime (onnxruntime-web against onnxruntime-node) and
        // auto (alignkit's WebAssembly decode kernel for these small models, in the page and in Node)
        for (const runtime of ['onnxruntime', 'auto'] as const)
          for (const name of ['large', 'small']) {
            const inPage = await page.evaluate(
              ([n, p, r]) =>
                (
                  globalThis as unknown as {
                    alignkitPlayground: {
                      decodeSpeed(
                        n: string,
                        p: string,
                        k: number,
                        r: string,
                      ): Promise<{ tokensPerSecond: number; firstRun: number; warmUpSeconds: number; ranOn: string }>;
                    };
                  }
                ).alignkitPlayground.decodeSpeed(n, p, 100, r),
              [name, prompt, runtime] as const,
            );
            const model = await loadNativeModel(join(site, 'models', name), undefined, { runtime });
            try {
              // as the page measures: a warm-up, then the best of five runs
              for (let i = 0; i < 3; i++) await model.sample({ prompt, maxNewTokens: 100, temperature: 0 });
              let node = 0;
              for (let run = 0; run < 5; run++) {
                const started = performance.now();
                const [out] = await model.sample({ prompt, maxNewTokens: 100, temperature: 0 });
                node = Math.max(node, out.tokens.length / ((performance.now() - started) / 1000));
              }
              console.log(
                `# playground speed, embedded ${name}, runtime ${runtime}: page ${inPage.tokensPerSecond.toFixed(0)} tokens/s (${inPage.ranOn}, 1 thread; ${inPage.firstRun.toFixed(0)} in its first run, steady after ${inPage.warmUpSeconds.toFixed(0)} s), Node ${node.toFixed(0)} tokens/s (${model.stepRuntime === 'wasm' ? "alignkit's WebAssembly kernel + onnxruntime-node" : 'onnxruntime-node'}, 1 thread), best of 5: ${(inPage.tokensPerSecond / node).toFixed(2)}× (target ≥ 0.5×; machine load skews both)`,
              );
              assert.ok(inPage.tokensPerSecond > 0);
              assert.equal(inPage.ranOn.startsWith("alignkit's"), model.stepRuntime === 'wasm', 'the same runtime ran');
            } finally {
              await model.dispose();
            }
          }
      });
    } finally {
      await context.close();
      await served.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
