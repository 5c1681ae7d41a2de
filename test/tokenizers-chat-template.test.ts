import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, renderPlainChat, selectChatTemplate } from '../src/tokenizers/chat-template.ts';
import { HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { Llama2cTokenizer } from '../src/tokenizers/llama2c-tokenizer.ts';
import { llama2cToHfTokenizer } from '../src/tokenizers/llama2c-to-hf.ts';
import { trainByteLevelBpe } from '../src/tokenizers/bpe-trainer.ts';

// meta-llama/Llama-2-7b-chat-hf, tokenizer_config.json "chat_template" (as the JSON string decodes).
const LLAMA2_TEMPLATE = String.raw`{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}`;

// Qwen/Qwen2-0.5B-Instruct (ChatML).
const CHATML_TEMPLATE = String.raw`{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`;

const conversation = [
  { role: 'system', content: 'You are helpful.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Bye' },
];

test('Llama-2 chat template', () => {
  const t = new ChatTemplate(LLAMA2_TEMPLATE, { bosToken: '<s>', eosToken: '</s>' }, 'llama/tokenizer_config.json');
  assert.equal(t.isReal, true);
  assert.equal(
    t.apply(conversation),
    '<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]',
  );
});

test('raise_exception in a template becomes a clear input error naming the file and field', () => {
  const t = new ChatTemplate(LLAMA2_TEMPLATE, { bosToken: '<s>', eosToken: '</s>' }, 'llama/tokenizer_config.json');
  assert.throws(
    () =>
      t.apply([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
    (e: Error & { kind?: string }) =>
      e.kind === 'input' &&
      /llama\/tokenizer_config.json, field "chat_template"/.test(e.message) &&
      /Conversation roles must alternate/.test(e.message),
  );
});

test('ChatML (Qwen) chat template with and without the generation prompt', () => {
  const t = new ChatTemplate(CHATML_TEMPLATE, { bosToken: null, eosToken: '<|im_end|>' }, 'qwen');
  const prefix = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n';
  assert.equal(t.apply([{ role: 'user', content: 'Hi' }]), prefix);
  assert.equal(
    t.apply([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true }),
    prefix + '<|im_start|>assistant\n',
  );
});

test('a template that does not parse is a format error', () => {
  const t = new ChatTemplate('{% for m in messages %}{{ m.content }', {}, 'bad/tokenizer_config.json');
  assert.throws(
    () => t.apply([{ role: 'user', content: 'x' }]),
    (e: Error & { kind?: string }) =>
      e.kind === 'format' && /bad\/tokenizer_config.json.*does not parse/.test(e.message),
  );
});

test('plain fallback when a tokenizer has no template', () => {
  assert.equal(
    renderPlainChat(conversation, true),
    'System: You are helpful.\nUser: Hi\nAssistant: Hello!\nUser: Bye\nAssistant:',
  );
  assert.equal(new ChatTemplate(null, {}, '').isReal, false);
  assert.equal(new ChatTemplate(null, {}, '').apply([{ role: 'user', content: 'Hi' }]), 'User: Hi\n');
});

test('selectChatTemplate: a string, or the "default" of named templates', () => {
  assert.equal(selectChatTemplate('x', 'f'), 'x');
  assert.equal(
    selectChatTemplate(
      [
        { name: 'tool_use', template: 't' },
        { name: 'default', template: 'd' },
      ],
      'f',
    ),
    'd',
  );
  assert.equal(selectChatTemplate(undefined, 'f'), null);
  assert.throws(() => selectChatTemplate(42, 'cfg.json'), /cfg.json, field "chat_template": expected a string/);
});

test("a Llama-style tokenizer with the Llama-2 template: one BOS, the template's special tokens as ids", () => {
  const l2c = Llama2cTokenizer.fromFile('data/stories260K/tok512.bin');
  assert.equal(l2c.hasChatTemplate, false);
  assert.equal(
    l2c.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true }),
    'User: Hi\nAssistant:',
  );
  const { tokenizerJson, tokenizerConfig } = llama2cToHfTokenizer(l2c);
  const tok = new HfTokenizer(tokenizerJson, { ...tokenizerConfig, chat_template: LLAMA2_TEMPLATE }, 'llama-style');
  assert.equal(tok.hasChatTemplate, true);
  const prompt = tok.applyChatTemplate(conversation);
  const ids = tok.encode(prompt);
  assert.equal(ids[0], 1);
  assert.notEqual(ids[1], 1, 'no second BOS');
  assert.equal(ids.filter((i) => i === 1).length, 2, "the template's two <s> are BOS ids");
  assert.equal(ids.filter((i) => i === 2).length, 1, 'its </s> is the EOS id');
});

test('a ChatML tokenizer: the rendered prompt encodes its markers as single special tokens', () => {
  const corpus = 'The cat sat on the mat. The dog ran to the cat. '.repeat(50);
  const trained = trainByteLevelBpe(corpus, {
    vocabSize: 300,
    specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
  });
  const tok = new HfTokenizer(
    trained.tokenizerJson,
    { ...trained.tokenizerConfig, eos_token: '<|im_end|>', chat_template: CHATML_TEMPLATE },
    'chatml',
  );
  const prompt = tok.applyChatTemplate([{ role: 'user', content: 'The cat' }], { addGenerationPrompt: true });
  const ids = tok.encode(prompt);
  const start = tok.tokenToId('<|im_start|>')!;
  const end = tok.tokenToId('<|im_end|>')!;
  assert.equal(ids.filter((i) => i === start).length, 3);
  assert.equal(ids.filter((i) => i === end).length, 2);
  assert.equal(tok.eosId, end);
  assert.equal(tok.decode(ids, { skipSpecial: false }), prompt);
  assert.equal(tok.decode(ids), 'system\nYou are a helpful assistant.\nuser\nThe cat\nassistant\n');
});
