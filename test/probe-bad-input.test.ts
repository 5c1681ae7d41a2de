import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../src/util/random.ts';
import type { AttributeValue } from '../src/probe/attribute.ts';
import { encodeLabels } from '../src/probe/label-encoding.ts';
import { readPromptItems } from '../src/probe/prompt-data.ts';
import { RepresentationStore, RepresentationWriter } from '../src/probe/representation-store.ts';
import { runSweep } from '../src/probe/probe-sweep.ts';
import { buildProbeSummary } from '../src/probe/probe-summary.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'probe-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store of n items whose prompt states (4 dims) linearly encode `signal`, with the given labels. */
function store(
  dir: string,
  labels: Record<string, AttributeValue[]>,
  tasks: Record<string, 'regression' | 'classification'>,
): RepresentationStore {
  const names = Object.keys(labels);
  const n = labels[names[0]].length;
  const { writer } = RepresentationWriter.open(dir, {
    dtype: 'float32',
    layers: [0],
    groups: ['prompt'],
    model: 'toy',
    attributes: names.map((name) => ({ name, task: tasks[name] })),
    settings: {},
  });
  const rng = createRng(3);
  for (let i = 0; i < n; i++) {
    const state = Float32Array.from({ length: 4 }, (_, j) => (j === 0 ? i : rng.normal()));
    writer.append(
      {
        id: String(i),
        prompt: 'p'.repeat(1 + (i % 5)),
        promptChars: 1 + (i % 5),
        promptTokens: 2,
        response: '',
        responseTokens: i,
        finishReason: 'eos',
        attributes: Object.fromEntries(names.map((name) => [name, labels[name][i]])),
      },
      { prompt: [state] },
    );
  }
  return RepresentationStore.open(dir);
}

test('attributes missing for some items: those items are left out and counted', (t) => {
  const n = 40;
  const values = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : i));
  const s = store(tempDir(t), { length: values }, { length: 'regression' });
  const { rows } = runSweep({
    stores: [{ name: 'toy', store: s }],
    probes: ['linear'],
    seeds: 1,
    controls: { shuffledLabels: false, surface: false },
  });
  assert.equal(rows[0].items, 30);
  assert.equal(rows[0].missing, 10);
  assert.ok(rows[0].test.spearman.mean > 0.9, 'the planted signal is still found');
  const summary = buildProbeSummary(rows);
  assert.match(String(summary.tables[0].rows[0].at(-1)), /30 \(\+10 without a value\)/);
});

test('constant labels: a clear message, and the sweep skips the attribute', (t) => {
  assert.throws(
    () => encodeLabels('steps', [3, 3, 3, null, 3]),
    /attribute "steps" has the same value \(3\) for all 4 items that have one; a probe cannot learn from constant labels/,
  );
  assert.throws(
    () => encodeLabels('character', [null, null]),
    /attribute "character" has no value for any of the 2 items/,
  );
  assert.throws(
    () => encodeLabels('length', [1, 'two', 3], 'regression'),
    /attribute "length" is a regression attribute but has a non-numeric value \("two"\)/,
  );
  const n = 30;
  const s = store(
    tempDir(t),
    { length: Array.from({ length: n }, (_, i) => i), steps: new Array(n).fill(2) },
    { length: 'regression', steps: 'regression' },
  );
  const { rows, skipped } = runSweep({ stores: [{ name: 'toy', store: s }], probes: ['linear'], seeds: 1 });
  assert.ok(rows.every((r) => r.attribute === 'length'));
  assert.equal(skipped.length, 1);
  assert.match(skipped[0].reason, /"steps" has the same value \(2\)/);
  assert.throws(
    () => runSweep({ stores: [{ name: 'toy', store: s }], probes: ['linear'], seeds: 1, attributes: ['steps'] }),
    /nothing to probe: attribute "steps" has the same value/,
  );
  assert.throws(
    () => runSweep({ stores: [{ name: 'toy', store: s }], probes: ['linear'], seeds: 1, attributes: ['colour'] }),
    /has no attribute "colour" \(it has: length, steps\)/,
  );
});

test('fewer items than the 60/20/20 split needs: a clear message', (t) => {
  const s = store(tempDir(t), { length: [1, 2, 3, 4, 5, 6, 7] }, { length: 'regression' });
  assert.throws(
    () => runSweep({ stores: [{ name: 'toy', store: s }], probes: ['linear'], seeds: 1 }),
    /attribute "length" \(prompt states of toy\): 7 items, but a 60\/20\/20 split needs at least 9 \(≥5 train, ≥2 validation, ≥2 test\); collect more prompts/,
  );
  const few = store(
    tempDir(t),
    { length: [1, 2, 3, null, null, 6, null, 8, 9, null, 11, 12] },
    { length: 'regression' },
  );
  assert.throws(
    () => runSweep({ stores: [{ name: 'toy', store: few }], probes: ['linear'], seeds: 1 }),
    /attribute "length" \(prompt states of toy\), with 4 item\(s\) lacking a value: 8 items, but a 60\/20\/20 split needs at least 9/,
  );
});

test('prompt data files: missing fields and malformed lines name the file and line', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'data.jsonl');
  writeFileSync(file, '{"question": "a?"}\n{"question": "b?"}\n{"q": "c?"}\n');
  assert.throws(
    () => readPromptItems(file),
    new RegExp(`${file.replace(/[/.]/g, '\\$&')}, line 3, field "question": missing or empty prompt`),
  );
  writeFileSync(file, '{"question": "a?"}\n{"question": \n');
  assert.throws(() => readPromptItems(file), /line 2: malformed JSON/);
  writeFileSync(file, '{"q": "a?", "n": 1}\n');
  assert.throws(
    () => readPromptItems(file),
    /no prompt field \(expected one of prompt, question, instruction, input, text/,
  );
  assert.throws(
    () => readPromptItems(file, { template: 'Q: {q} ({m})' }),
    /line 1, field "m": the template needs field "m"/,
  );
  assert.deepEqual(
    readPromptItems(file, { template: 'Q: {q} ({n})' }).map((i) => i.prompt),
    ['Q: a? (1)'],
  );
  const txt = join(dir, 'prompts.txt');
  writeFileSync(txt, 'first\n\nsecond\n');
  assert.deepEqual(
    readPromptItems(txt).map((i) => [i.id, i.prompt]),
    [
      ['1', 'first'],
      ['3', 'second'],
    ],
  );
  writeFileSync(txt, 'one two three four\n');
  assert.deepEqual(
    readPromptItems(txt, { words: -2 }).map((i) => i.prompt),
    ['three four'],
  );
  assert.deepEqual(
    readPromptItems(txt, { words: 3 }).map((i) => i.prompt),
    ['one two three'],
  );
  assert.throws(() => readPromptItems(join(dir, 'nope.jsonl')), /nope\.jsonl: file not found/);
});
