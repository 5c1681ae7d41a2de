import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeScale, niceStep } from '../src/report/scale.ts';
import { formatValue, linearTickFormatter, logTickLabel } from '../src/report/format-number.ts';
import { fitText, textWidth } from '../src/report/svg.ts';
import { escapeHtml } from '../src/report/escape-html.ts';
import { flatten } from '../src/report/flatten.ts';

test('nice steps are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(1, 5), 0.2);
  assert.equal(niceStep(0.7, 5), 0.1);
  assert.equal(niceStep(600, 5), 100);
  assert.equal(niceStep(30, 5), 5);
  assert.equal(niceStep(37, 5), 10);
  assert.equal(niceStep(5e-4, 5), 1e-4);
});

test('a linear scale covers the data with round ticks', () => {
  const s = makeScale([0.13, 0.91, NaN, Infinity])!;
  assert.ok(s.min <= 0.13 && s.max >= 0.91);
  assert.deepEqual(s.ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(s.fraction(s.min), 0);
  assert.equal(s.fraction(s.max), 1);
  assert.deepEqual(s.ticks.map(s.label), ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
});

test('scale edge cases: nothing finite, one value, zero, negative, fixed range, zero baseline, padding', () => {
  assert.equal(makeScale([]), undefined);
  assert.equal(makeScale([NaN, Infinity]), undefined);
  const one = makeScale([5])!;
  assert.ok(one.min < 5 && one.max > 5, 'a single value gets a non-empty domain');
  const zero = makeScale([0, 0])!;
  assert.ok(zero.min < 0 && zero.max > 0);
  const negative = makeScale([-3.2, -0.4])!;
  assert.ok(negative.min <= -3.2 && negative.max >= -0.4 && negative.max <= 0);
  assert.ok(
    negative.ticks.map(negative.label).every((l) => !l.includes('-')),
    'minus signs are typographic',
  );
  const fixed = makeScale([2, 7], { range: [1, 10] })!;
  assert.deepEqual([fixed.min, fixed.max], [1, 10]);
  const widened = makeScale([-2, 12], { range: [1, 10] })!;
  assert.ok(widened.min <= -2 && widened.max >= 12);
  const bars = makeScale([3, 8], { includeZero: true })!;
  assert.equal(bars.min, 0);
  const padded = makeScale([0, 1], { pad: 0.1 })!;
  assert.equal(padded.min, 0, 'padding never pushes a zero baseline below zero');
  assert.ok(padded.max > 1);
});

test('log scales use 1-2-5 ticks within a few decades and skip values ≤ 0', () => {
  const s = makeScale([8000, 256000, 0, -5], { log: true })!;
  assert.equal(s.log, true);
  assert.deepEqual([s.min, s.max], [5000, 500000]);
  assert.deepEqual(s.ticks, [5000, 10000, 20000, 50000, 100000, 200000, 500000]);
  assert.deepEqual(s.ticks.map(s.label), ['5k', '10k', '20k', '50k', '100k', '200k', '500k']);
  assert.ok(Math.abs(s.fraction(50000) - 0.5) < 1e-9);
  const wide = makeScale([1e-3, 1e6], { log: true })!;
  assert.ok(wide.ticks.length <= 10 && wide.ticks.every((t) => Number.isInteger(Math.log10(t))));
  assert.equal(makeScale([0, -1], { log: true }), undefined);
  const single = makeScale([10], { log: true })!;
  assert.ok(single.min < 10 && single.max > 10);
});

test('values and ticks are formatted for people', () => {
  assert.equal(formatValue(null), '—');
  assert.equal(formatValue(undefined), '—');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(-Infinity), '−∞');
  assert.equal(formatValue(1254300), '1,254,300');
  assert.equal(formatValue(0.123456), '0.1235');
  assert.equal(formatValue(-42.5), '−42.5');
  assert.equal(formatValue(1234.56), '1,234.6');
  assert.equal(formatValue(3e-7), '3.00e−7');
  assert.equal(formatValue('ivg'), 'ivg');
  const ticks = [0, 25000, 50000, 75000];
  assert.deepEqual(ticks.map(linearTickFormatter(ticks, 25000)), ['0', '25k', '50k', '75k']);
  assert.deepEqual([0, 2.5, 5].map(linearTickFormatter([0, 2.5, 5], 2.5)), ['0.0', '2.5', '5.0']);
  assert.deepEqual([1e-5, 2e-5].map(linearTickFormatter([1e-5, 2e-5], 1e-5)), ['1e−5', '2e−5']);
  assert.equal(logTickLabel(1e6), '1M');
  assert.equal(logTickLabel(0.01), '0.01');
});

test('long text is cut with an ellipsis to the width it may take', () => {
  const long = 'Addition and subtraction of fractions with unlike denominators';
  const cut = fitText(long, 120, 12);
  assert.ok(cut.endsWith('…') && cut.length < long.length);
  assert.ok(textWidth(cut, 12) <= 120);
  assert.equal(fitText('short', 120, 12), 'short');
  assert.ok(textWidth('数学推理', 12) > textWidth('abcd', 12), 'CJK characters count wide');
});

test('escaping and flattening', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.deepEqual(flatten({ a: { b: 1, c: [1, 2] }, d: [{ e: 'x' }], f: {} }), [
    ['a.b', 1],
    ['a.c', [1, 2]],
    ['d[0].e', 'x'],
    ['f', {}],
  ]);
});

test('tick labels are always distinct: as many digits as it takes (learning rates, values near 1)', () => {
  for (const values of [
    [2e-5, 3e-5],
    [2e-5, 2.2e-5],
    [1.1e-4, 1.2e-4],
    [1.0001, 1.0003],
    [10000, 10300],
    [123456, 123459],
    [0, 1],
    [-0.00003, 0.00002],
  ]) {
    const s = makeScale(values)!;
    const labels = s.ticks.map(s.label);
    assert.equal(new Set(labels).size, labels.length, `${values}: ${labels.join(', ')}`);
  }
  const lr = makeScale([2e-5, 3e-5])!;
  assert.deepEqual(lr.ticks.map(lr.label), ['2.0e−5', '2.2e−5', '2.4e−5', '2.6e−5', '2.8e−5', '3.0e−5']);
  const nearOne = makeScale([1.0001, 1.0003])!;
  assert.equal(nearOne.label(nearOne.ticks[0]), '1.00010', 'values near 1 are not written 1e+0');
});
