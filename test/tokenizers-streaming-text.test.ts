import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingText } from '../src/tokenizers/streaming-text.ts';
import { Llama2cTokenizer, LLAMA2C_BYTE_OFFSET } from '../src/tokenizers/llama2c-tokenizer.ts';
import { HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { gpt2TokenizerConfig, gpt2TokenizerJson } from './helpers/gpt2-tokenizer.ts';
import { createRng } from '../src/util/random.ts';
import type { Tokenizer } from '../src/tokenizers/tokenizer.ts';

const TOK512 = 'data/stories260K/tok512.bin';

/** What the stream must produce: the continuation's text after the context, cut at the first stop. */
function expected(tok: Tokenizer, context: number[], tokens: number[], stops: string[]): string {
  const whole = tok.decode([...context, ...tokens]);
  const before = context.length ? tok.decode(context) : '';
  let text = whole.slice(before.length);
  let cut = -1;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) text = text.slice(0, cut);
  return text;
}

/** Streams the tokens one by one; every intermediate output must be a prefix of the final text. */
function stream(
  tok: Tokenizer,
  context: number[],
  tokens: number[],
  stops: string[],
): { text: string; deltas: string[] } {
  const s = new StreamingText(tok, stops, context);
  const want = expected(tok, context, tokens, stops);
  const deltas: string[] = [];
  let sent = '';
  for (const t of tokens) {
    const d = s.push(t);
    deltas.push(d);
    sent += d;
    assert.ok(want.startsWith(sent), `sent ${JSON.stringify(sent)} is not a prefix of ${JSON.stringify(want)}`);
  }
  sent += s.finish();
  return { text: sent, deltas };
}

test('streamed text = decoding the whole continuation, for random llama2.c token sequences (byte pieces split anywhere)', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const rng = createRng(7);
  const context = tok.encode('Once upon a time, there was');
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(40);
    // a third of the draws are byte-fallback pieces, so partial and invalid UTF-8 are common
    const tokens = Array.from({ length: n }, () =>
      rng.next() < 0.33 ? LLAMA2C_BYTE_OFFSET + 0x80 + rng.int(0x80) : rng.int(tok.vocabSize),
    );
    for (const ctx of [[], context]) assert.equal(stream(tok, ctx, tokens, []).text, expected(tok, ctx, tokens, []));
  }
});

test('multi-byte UTF-8 spread over byte-fallback pieces comes out whole, never as U+FFFD', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const text = 'Lily saw a 🐶 and said 你好, café — naïve ✓';
  const tokens = tok.encode(text, { addBos: false });
  assert.ok(
    tokens.some((t) => t >= LLAMA2C_BYTE_OFFSET && t < LLAMA2C_BYTE_OFFSET + 256),
    'uses byte pieces',
  );
  const { text: out, deltas } = stream(tok, [], tokens, []);
  assert.equal(out, tok.decode(tokens));
  assert.equal(out, text);
  for (const d of deltas) assert.ok(!d.includes('\uFFFD'), `delta ${JSON.stringify(d)}`);
  // with the prompt as context the first word keeps its leading space
  const prompt = tok.encode('She said:');
  assert.equal(stream(tok, prompt, tokens, []).text, ' ' + text);
});

test('stop strings spanning tokens cut the text; a tail that could become one is held back', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const tokens = tok.encode('the cat sat on the mat. The dog ran', { addBos: false });
  for (const stops of [['mat. The'], ['at on', 'zzz'], ['ran'], ['nothing like this']]) {
    const { text } = stream(tok, [], tokens, stops);
    assert.equal(text, expected(tok, [], tokens, stops), `stops ${stops}`);
  }
  // stream() checked that nothing sent was later cut: the tail "mat. T…" was held back until decided
  const s = new StreamingText(tok, ['mat. The']);
  let sent = '';
  for (const t of tokens) {
    sent += s.push(t);
    if (s.stopped) break;
  }
  assert.equal(s.stoppedBy, 'mat. The');
  assert.equal(sent + s.finish(), 'the cat sat on the ');
  assert.equal(s.push(tokens[0]), '', 'ignores tokens after the stop');
});

test('GPT-2 byte-level BPE: emoji and CJK split across tokens stream exactly; clones continue independently', () => {
  const tok = new HfTokenizer(gpt2TokenizerJson(), gpt2TokenizerConfig(), 'gpt2');
  const text = ' Hello 🐶🐱 世界! naïve';
  const tokens = tok.encode(text, { addBos: false });
  const { text: out, deltas } = stream(tok, [], tokens, ['界!']);
  assert.equal(out, ' Hello 🐶🐱 世');
  for (const d of deltas) assert.ok(!d.includes('\uFFFD'));
  const rng = createRng(3);
  for (let trial = 0; trial < 50; trial++) {
    const random = Array.from({ length: 1 + rng.int(30) }, () => rng.int(50256));
    assert.equal(stream(tok, [], random, []).text, tok.decode(random));
  }
  // a clone taken mid-stream continues on its own
  const a = new StreamingText(tok);
  let sentA = a.pushAll(tokens.slice(0, 4));
  const b = a.clone();
  let sentB = sentA;
  sentA += a.pushAll(tokens, 4) + a.finish();
  sentB += b.pushAll([tok.encode(' end', { addBos: false })[0]]) + b.finish();
  assert.equal(sentA, tok.decode(tokens));
  assert.equal(sentB, tok.decode([...tokens.slice(0, 4), ...tok.encode(' end', { addBos: false })]));
});
