import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Summary } from '../src/run/summary.ts';
import { renderComparison, runNames, writeComparison, type ComparedRun } from '../src/report/compare.ts';
import { groupPlots, groupTables } from '../src/report/merge-runs.ts';
import { PALETTE } from '../src/report/series-colors.ts';
import {
  mtBenchSummary,
  safetySummary,
  sampleConfig,
  steeringSummary,
  trainingSummary,
} from './helpers/report-samples.ts';
import { count, xmlProblem } from './helpers/xml-check.ts';

const root = mkdtempSync(join(tmpdir(), 'alignkit-compare-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of `summary` with every metric and plotted value scaled, as a second run would differ. */
function scaled(summary: Summary, factor: number): Summary {
  const copy = structuredClone(summary);
  for (const k of Object.keys(copy.metrics ?? {}))
    if (typeof copy.metrics![k] === 'number') copy.metrics![k] = (copy.metrics![k] as number) * factor;
  for (const p of copy.plots) for (const s of p.series) for (const pt of s.points) pt[1] *= factor;
  return copy;
}

const base: ComparedRun = { name: 'base', summary: mtBenchSummary, config: sampleConfig };
const dpo: ComparedRun = {
  name: 'dpo',
  summary: scaled(mtBenchSummary, 1.1),
  config: { ...sampleConfig, seed: 8, decode: { ...sampleConfig.decode, beams: 8 } },
};

test('headline metrics of all runs in one table', () => {
  const html = renderComparison([base, dpo]);
  assert.match(html, /<h3>Headline metrics<\/h3>/);
  assert.match(
    html,
    /<th scope="col">metric<\/th><th class="num" scope="col">base<\/th><th class="num" scope="col">dpo<\/th>/,
  );
  assert.match(html, /<td>overall \(base\)<\/td><td class="num">5.42<\/td><td class="num">5.962<\/td>/);
});

test("same-titled plots are overlaid: each run's copy of a series shares its colour, told apart by dash and shade", () => {
  const groups = groupPlots([base, dpo]);
  assert.deepEqual(
    groups.map((g) => [g.title, g.overlay?.series.length]),
    [
      ['Abilities', 4],
      ['Per-task score', 4],
    ],
  );
  assert.deepEqual(
    groups[0].overlay!.series.map((s) => s.name),
    ['base · base', 'base · dpo', 'dpo · base', 'dpo · dpo'],
  );
  const html = renderComparison([base, dpo]);
  assert.equal(count(html, /<svg /), 2);
  assert.equal(count(html, /class="radar-area"/), 4);
  const radar = html.slice(html.indexOf('chart-radar'), html.indexOf('chart-bar'));
  const areas = [...radar.matchAll(/class="radar-area"[^>]*fill="(#\w+)"[^>]*?(stroke-dasharray="[^"]+")?\/>/g)].map(
    (m) => [m[1], Boolean(m[2])],
  );
  assert.deepEqual(areas, [
    [PALETTE[0], false],
    [PALETTE[1], false],
    [PALETTE[0], true],
    [PALETTE[1], true],
  ]);
  assert.match(html, /class="bar"[^>]*fill-opacity="0.55"/, "the second run's bars are lighter");
});

test('runs with one series each are overlaid as one series per run', () => {
  const a: ComparedRun = {
    name: 'a',
    summary: {
      kind: 'probe',
      title: 'p',
      tables: [],
      plots: [
        {
          type: 'line',
          title: 'R²',
          series: [
            {
              name: 'length',
              points: [
                [0, 0.1],
                [1, 0.5],
              ],
            },
          ],
        },
      ],
    },
  };
  const b: ComparedRun = { ...a, name: 'b' };
  const [group] = groupPlots([a, b]);
  assert.deepEqual(
    group.overlay!.series.map((s) => s.name),
    ['a', 'b'],
  );
  const html = renderComparison([a, b]);
  assert.match(html, new RegExp(`class="series-line"[^>]*stroke="${PALETTE[0]}"`));
  assert.match(html, new RegExp(`class="series-line"[^>]*stroke="${PALETTE[1]}"`));
});

test('plots that cannot share axes are shown side by side, named by run', () => {
  const other: ComparedRun = { name: 'other', summary: scaled(safetySummary, 0.5) };
  const first: ComparedRun = { name: 'first', summary: safetySummary };
  const onlyTraining: ComparedRun = { name: 'train', summary: trainingSummary };
  const groups = groupPlots([first, other, onlyTraining]);
  const heat = groups.find((g) => g.title === 'Harmful rate')!;
  assert.equal(heat.overlay, undefined, 'heatmaps are never overlaid');
  assert.equal(heat.separate.length, 2);
  assert.equal(groups.find((g) => g.title === 'Loss')!.overlay, undefined, 'a plot of one run is shown as it is');
  const html = renderComparison([first, other, onlyTraining]);
  assert.match(html, /<h3>Harmful rate <span class="run-name">— first<\/span><\/h3>/);
  assert.match(html, /<h3>Harmful rate <span class="run-name">— other<\/span><\/h3>/);
  assert.match(html, /<h3>Loss <span class="run-name">— train<\/span><\/h3>/);
  const tooMany = Array.from({ length: 6 }, (_, i): ComparedRun => ({ name: `r${i}`, summary: steeringSummary }));
  assert.equal(groupPlots(tooMany)[0].overlay, undefined, 'more than 10 series in one plot: side by side instead');
});

test('same-titled tables with the same columns merge with a run column; others stay apart', () => {
  const changed: ComparedRun = {
    name: 'wide',
    summary: {
      ...mtBenchSummary,
      tables: [{ ...mtBenchSummary.tables[0], columns: ['ability', 'base', 'dpo', 'sft'] }],
    },
  };
  const [merged] = groupTables([base, dpo]);
  assert.deepEqual(merged.merged!.columns, ['run', 'ability', 'base', 'dpo']);
  assert.equal(merged.merged!.rows.length, 26);
  assert.deepEqual(merged.merged!.rows[13].slice(0, 2), ['dpo', 'Context Memory']);
  const [apart] = groupTables([base, changed]);
  assert.equal(apart.merged, undefined);
  assert.equal(apart.separate.length, 2);
});

test('the settings that differ are listed; the page is well-formed and links each report', () => {
  const html = renderComparison([
    { ...base, reportHref: 'base/report.html' },
    dpo,
    { name: 'no-config', summary: trainingSummary },
  ]);
  assert.match(html, /<h3>Settings that differ<\/h3>/);
  assert.match(html, /<td>seed<\/td><td class="num">7<\/td><td class="num">8<\/td><td class="missing">—<\/td>/);
  assert.match(html, /<td>decode.beams<\/td><td class="num">4<\/td><td class="num">8<\/td>/);
  assert.doesNotMatch(html, /<td>writtenAt<\/td>/);
  assert.match(html, /<a href="base\/report.html">base<\/a>/);
  const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  assert.ok(svgs.length >= 3);
  for (const svg of svgs) assert.equal(xmlProblem(svg), undefined);
  assert.match(renderComparison([base, { ...base, name: 'same' }]), /The runs' configurations are the same./);
});

test('run names: folder names, made unique with their paths when two collide', () => {
  assert.deepEqual(runNames(['runs/a', 'runs/b']), ['a', 'b']);
  assert.deepEqual(runNames(['x/runs/a', 'y/runs/a']), ['x/runs/a', 'y/runs/a']);
  assert.deepEqual(runNames(['runs/a', 'runs/a/']), ['a', 'a (2)']);
});

test('writeComparison reads the run folders and links their reports relative to the page', () => {
  for (const [name, summary] of [
    ['a b', steeringSummary],
    ['c', scaled(steeringSummary, 0.9)],
  ] as const) {
    mkdirSync(join(root, 'runs', name), { recursive: true });
    writeFileSync(join(root, 'runs', name, 'summary.json'), JSON.stringify(summary));
  }
  const out = writeComparison([join(root, 'runs', 'a b'), join(root, 'runs', 'c')], join(root, 'pages', 'cmp.html'));
  const html = readFileSync(out, 'utf8');
  assert.match(html, /<a href="..\/runs\/a%20b\/report.html">a b<\/a>/);
  assert.match(html, /<a href="..\/runs\/c\/report.html">c<\/a>/);
  assert.throws(() => renderComparison([]), /nothing to compare/);
});
