import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Summary } from '../src/run/summary.ts';
import { renderReport } from '../src/report/html.ts';
import { allSamples, sampleConfig, steeringSummary, trainingSummary } from './helpers/report-samples.ts';
import { count } from './helpers/xml-check.ts';

const EVIL = `<img src=x onerror="alert(1)">&'"`;
const ESCAPED = '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;&quot;';

/** Nothing in the page may load from elsewhere: no external scripts, styles, fonts, images or frames. */
function assertSelfContained(html: string) {
  const urls = [...html.matchAll(/(?:https?:)?\/\/[^\s"'<>)]+/g)]
    .map((m) => m[0])
    .filter((u) => u !== 'http://www.w3.org/2000/svg');
  assert.deepEqual(urls, [], 'no URLs besides the SVG namespace');
  assert.doesNotMatch(html, /<(link|script|img|iframe|object|embed)[^>]* (src|href)=(?!"data:)/i);
  assert.doesNotMatch(html, /@import|@font-face|url\(/i);
  assert.equal(count(html, /<script/), 1, 'only the inline print helper');
}

test('a report holds the headline metrics, every table, every plot and the configuration', () => {
  for (const [name, summary] of Object.entries(allSamples)) {
    const html = renderReport(summary, sampleConfig, { runName: name });
    assertSelfContained(html);
    assert.match(html, /^<!doctype html>/);
    assert.match(html, new RegExp(`<title>${summary.title.replace(/[()]/g, '\\$&')} — alignkit</title>`));
    for (const [metric] of Object.entries(summary.metrics ?? {}))
      assert.ok(html.includes(`<div class="name">${metric}</div>`), `${name}: metric ${metric}`);
    for (const table of summary.tables) {
      assert.ok(html.includes(`<h3>${table.title}</h3>`), `${name}: table ${table.title}`);
      assert.equal(count(html, /<tr>/g) >= table.rows.length, true);
    }
    assert.equal(count(html, /<svg /), summary.plots.length, `${name}: one SVG per plot`);
    for (const plot of summary.plots)
      assert.ok(html.includes(`aria-label="${plot.title}"`), `${name}: plot ${plot.title}`);
    assert.match(html, /<details class="card config"><summary>Configuration \(\d+ settings\)<\/summary>/);
    assert.match(html, /<td class="key">decode.beams<\/td><td class="value">4<\/td>/);
    assert.match(html, /written 2025-06-01 14:03 UTC/);
    assert.match(html, /seed 7/);
    assert.match(html, new RegExp(`run ${name}`));
  }
});

test('tables: numbers formatted and right-aligned, missing cells marked, notes shown', () => {
  const html = renderReport(steeringSummary, sampleConfig);
  assert.match(html, /<th class="num" scope="col">tokens processed<\/th>/);
  assert.match(html, /<td class="num">100,000<\/td>/);
  assert.match(html, /<td class="num">−42.5<\/td>/);
  assert.match(html, /<p class="note">Gold reward: VADER/);
  const training = renderReport(trainingSummary, undefined);
  assert.match(training, /<td class="num missing">—<\/td>/);
  assert.match(training, /No config.json in the run folder/);
  const ragged = renderReport({
    kind: 'k',
    title: 't',
    tables: [
      { title: 'ragged', columns: ['a'], rows: [[1, 'extra'], []] },
      { title: 'empty', columns: ['a', 'b'], rows: [] },
    ],
    plots: [],
  });
  assert.match(ragged, /<th scope="col"><\/th>/, 'a header cell is added for the extra column');
  assert.match(ragged, /<td class="missing" colspan="2">no rows<\/td>/);
});

test('everything that comes from data is escaped', () => {
  const summary: Summary = {
    kind: EVIL,
    title: EVIL,
    metrics: { [EVIL]: EVIL, n: 1 },
    tables: [{ title: EVIL, columns: [EVIL, 'v'], rows: [[EVIL, 1]], note: EVIL }],
    plots: [
      {
        type: 'line',
        title: EVIL,
        xLabel: EVIL,
        yLabel: EVIL,
        note: EVIL,
        series: [
          {
            name: EVIL,
            points: [
              [1, 1],
              [2, 2],
            ],
          },
          { name: 'b', points: [[1, 2]] },
        ],
      },
    ],
    [EVIL]: EVIL,
  };
  const html = renderReport(summary, { [EVIL]: EVIL, nested: { [EVIL]: [EVIL] } }, { runName: EVIL });
  assert.doesNotMatch(html, /<img/);
  assert.doesNotMatch(html, /onerror="/);
  assert.ok(count(html, new RegExp(ESCAPED.replace(/[()]/g, '\\$&'))) >= 12, 'every field shows escaped');
  assertSelfContained(html);
});

test('NaN and missing values never reach the markup as NaN coordinates', () => {
  const html = renderReport(trainingSummary, sampleConfig);
  assert.doesNotMatch(html.replace(/<td[^>]*>NaN<\/td>/g, ''), /="[^"]*NaN/);
  assert.match(html, /1 point without a finite value not drawn/);
});

test('extra summary fields are kept, collapsed, and a huge one is cut', () => {
  const html = renderReport({ ...steeringSummary, samples: ['x'.repeat(300_000)] }, sampleConfig);
  assert.match(html, /<summary>1 more field in summary.json<\/summary>/);
  assert.match(html, /more characters in the file\)/);
  assert.ok(html.length < 260_000);
});

test('rendering is deterministic', () => {
  assert.equal(renderReport(steeringSummary, sampleConfig), renderReport(steeringSummary, sampleConfig));
});
