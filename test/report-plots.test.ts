import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Plot } from '../src/run/summary.ts';
import { renderPlotSvg } from '../src/report/svg-plots.ts';
import { SeriesColors, PALETTE } from '../src/report/series-colors.ts';
import { thinPolyline } from '../src/report/plot-xy.ts';
import { allSamples } from './helpers/report-samples.ts';
import { count, xmlProblem } from './helpers/xml-check.ts';

const NULL = null as unknown as number;

/** Renders a plot and checks what every plot must satisfy: well-formed, no NaN coordinates. */
function render(plot: Plot, colors?: SeriesColors) {
  const out = renderPlotSvg(plot, colors);
  assert.equal(xmlProblem(out.svg), undefined, `well-formed SVG for "${plot.title}"`);
  assert.doesNotMatch(out.svg, /NaN|Infinity|undefined/, `no NaN/undefined in the markup of "${plot.title}"`);
  assert.match(out.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* viewBox="0 0 640 \d+"/);
  return out;
}

const drawn = (svg: string) => count(svg, /class="(series-line|point|bar|radar-area|heat-cell)"/);
const numbersOf = (svg: string, attr: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<[a-z]+ class="${cls}"[^>]*? ${attr}="([-\\d.]+)"`, 'g'))].map((m) => Number(m[1]));

test('every sample plot renders with drawn marks', () => {
  for (const summary of Object.values(allSamples)) {
    for (const plot of summary.plots) assert.ok(drawn(render(plot).svg) > 0, plot.title);
  }
});

test('plots with nothing to draw say so', () => {
  for (const type of ['line', 'scatter', 'bar', 'radar', 'heatmap'] as const) {
    for (const series of [
      [],
      [{ name: 'a', points: [] }],
      [
        {
          name: 'a',
          points: [
            [1, NULL],
            [2, NaN],
          ] as [number, number][],
        },
      ],
    ]) {
      const { svg } = render({ type, title: `empty ${type}`, series });
      assert.match(svg, /No data to plot/, `${type} with ${JSON.stringify(series)}`);
      assert.equal(drawn(svg), 0);
    }
  }
});

test('a line with one point still shows it as a marker', () => {
  const { svg } = render({ type: 'line', title: 'one', series: [{ name: 'a', points: [[3, 0.5]] }] });
  assert.equal(count(svg, /class="point"/), 1);
  assert.equal(count(svg, /class="series-line"/), 0);
  const long = render({
    type: 'line',
    title: 'one of many',
    series: [
      {
        name: 'a',
        mode: 'line',
        points: [
          [1, 1],
          [2, NULL],
          [3, 2],
          [4, 3],
        ],
      },
    ],
  }).svg;
  assert.equal(count(long, /class="point"/), 1, 'an isolated point between gaps gets a marker even in line mode');
});

test('missing values are skipped, break the line and are reported', () => {
  const plot: Plot = {
    type: 'line',
    title: 'gaps',
    series: [
      {
        name: 'a',
        points: [
          [1, 1],
          [2, 2],
          [3, NULL],
          [4, NaN],
          [5, 5],
          [6, 6],
        ],
      },
    ],
  };
  const { svg, notes } = render(plot);
  assert.equal(count(svg, /class="point"/), 4);
  const d = /class="series-line" d="([^"]+)"/.exec(svg)![1];
  assert.equal(count(d, /M/), 2, 'two segments');
  assert.ok(
    notes.some((n) => n.startsWith('2 points without a finite value')),
    notes.join(),
  );
});

test('scatter draws markers only, one shape per series', () => {
  const { svg } = render(allSamples.modpo.plots[0]);
  const plot = allSamples.modpo.plots[0];
  assert.equal(count(svg, /class="series-line"/), 1, 'only the series with mode line+markers has a line');
  assert.equal(
    count(svg, /class="point"/),
    plot.series.reduce((n, s) => n + s.points.length, 0),
  );
  assert.match(svg, /<circle class="point"/);
  assert.match(svg, /<rect class="point"/, 'the second series uses squares');
});

test('log axes drop values ≤ 0 and say how many', () => {
  const { svg, notes } = render({
    type: 'line',
    title: 'log',
    xScale: 'log',
    yScale: 'log',
    series: [
      {
        name: 'a',
        points: [
          [0, 1],
          [1, 1],
          [10, 10],
          [100, -1],
          [1000, 1000],
        ],
      },
    ],
  });
  assert.equal(count(svg, /class="point"/), 3);
  assert.ok(
    notes.some((n) => n.includes('2 points ≤ 0')),
    notes.join(),
  );
  assert.match(svg, />1k</);
});

test('string x values make a categorical line plot', () => {
  const { svg } = render({
    type: 'line',
    title: 'checkpoints',
    series: [
      {
        name: 'a',
        points: [
          ['base', 1],
          ['sft', 2],
          ['dpo', 3],
        ],
      },
      {
        name: 'b',
        points: [
          ['sft', 1.5],
          ['rlhf', 2],
        ],
      },
    ],
  });
  for (const c of ['base', 'sft', 'dpo', 'rlhf']) assert.match(svg, new RegExp(`>${c}</text>`));
  assert.equal(count(svg, /class="point"/), 5);
});

test('long thin curves are thinned to what the pixels can show, keeping extremes', () => {
  const points: [number, number][] = Array.from({ length: 100_000 }, (_, i) => [
    i / 200,
    i === 50_000 ? 99 : Math.sin(i),
  ]);
  const thin = thinPolyline(points, 500);
  assert.ok(thin.length <= 500 * 4 && thin.length > 500);
  assert.ok(
    thin.some(([, y]) => y === 99),
    'the spike survives',
  );
  assert.deepEqual(thin[0], points[0]);
  assert.deepEqual(thin[thin.length - 1], points[points.length - 1]);
  const unordered: [number, number][] = points.map(([x, y], i) => [i % 2 ? x : -x, y]);
  assert.equal(thinPolyline(unordered, 500).length, unordered.length, 'x not increasing: left alone');
});

test('bars grow from zero: negative values point down', () => {
  const { svg } = render({
    type: 'bar',
    title: 'signed',
    series: [
      {
        name: 'delta',
        points: [
          ['up', 2],
          ['down', -1],
          ['zero', 0],
        ],
      },
    ],
  });
  const ys = numbersOf(svg, 'y', 'bar');
  const heights = numbersOf(svg, 'height', 'bar');
  assert.equal(ys.length, 3);
  const zeroLine = ys[0] + heights[0];
  assert.ok(Math.abs(ys[1] - zeroLine) < 0.02, 'the negative bar starts at the zero line');
  assert.ok(Math.abs(heights[0] - 2 * heights[1]) < 0.05, 'lengths are proportional to |value|');
  assert.equal(heights[2], 0);
  assert.match(svg, />−1</, 'value labels use a minus sign');
});

test('grouped bars: one bar per series and category, missing ones left out, legend shown', () => {
  const { svg, notes } = render({
    type: 'bar',
    title: 'grouped',
    series: [
      {
        name: 'base',
        points: [
          ['a', 1],
          ['b', 2],
        ],
      },
      {
        name: 'dpo',
        points: [
          ['a', 1.5],
          ['b', NULL],
          ['c', 3],
        ],
      },
    ],
  });
  assert.equal(count(svg, /class="bar"/), 4);
  assert.equal(count(svg, /class="legend-item"/), 2);
  assert.ok(notes.some((n) => n.startsWith('1 value')));
});

test('long category labels turn bars sideways and are cut with the full label as tooltip', () => {
  const label = 'Addition and subtraction of fractions with unlike denominators';
  const { svg } = render({
    type: 'bar',
    title: 'concepts',
    series: [
      {
        name: 'acc',
        points: [
          [label, 0.4],
          ['Area of circles', 0.7],
          ['Percentages', 0.2],
        ],
      },
    ],
  });
  const widths = numbersOf(svg, 'width', 'bar');
  assert.ok(widths.every((w) => w > 0));
  assert.ok(
    numbersOf(svg, 'height', 'bar').every((h) => h < 40),
    'bars are horizontal',
  );
  assert.match(svg, new RegExp(`<title>${label}</title>[^<]*…</text>`));
});

test('many short categories get rotated labels', () => {
  const points: [string, number][] = Array.from({ length: 40 }, (_, i) => [`t${i}`, i]);
  const { svg } = render({ type: 'bar', title: 'many', series: [{ name: 'v', points }] });
  assert.equal(count(svg, /class="bar"/), 40);
  assert.match(svg, /transform="rotate\(-40/);
});

test('radar: a polygon per series; fewer than three categories fall back to bars', () => {
  const { svg } = render(allSamples['mt-bench-101'].plots[0]);
  assert.equal(count(svg, /class="radar-area"/), 2);
  assert.equal(count(svg, /class="point"/), 26);
  const small = render({
    type: 'radar',
    title: 'two axes',
    series: [
      {
        name: 'a',
        points: [
          ['x', 1],
          ['y', 2],
        ],
      },
    ],
  });
  assert.equal(count(small.svg, /class="bar"/), 2);
  assert.ok(small.notes.some((n) => n.includes('drawn as bars')));
  const gaps = render({
    type: 'radar',
    title: 'gaps',
    series: [
      {
        name: 'a',
        points: [
          ['x', 1],
          ['y', NULL],
          ['z', 2],
          ['w', -1],
        ],
      },
    ],
  });
  assert.equal(count(gaps.svg, /class="point"/), 3);
  assert.ok(gaps.notes.some((n) => n.startsWith('1 value missing')));
});

test('heatmap: a cell per value, diverging colours around zero, values printed', () => {
  const { svg } = render(allSamples.safety.plots[0]);
  assert.equal(count(svg, /class="heat-cell"/), 16);
  const signed = render({
    type: 'heatmap',
    title: 'signed',
    series: [
      {
        name: 'r1',
        points: [
          ['a', -1],
          ['b', 1],
        ],
      },
      {
        name: 'r2',
        points: [
          ['a', 0],
          ['b', NULL],
        ],
      },
    ],
  }).svg;
  const fills = [...signed.matchAll(/class="heat-cell"[^>]* fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
  assert.equal(fills.length, 4);
  assert.equal(fills[0], '#2166ac', 'most negative is the blue end');
  assert.equal(fills[1], '#b2182b', 'most positive is the red end');
  assert.equal(fills[2], '#f7f7f7', 'zero is white');
  assert.equal(fills[3], '#f3f3f3', 'missing is grey');
  assert.match(signed, />−1</);
});

test('series keep one colour across the plots of a page', () => {
  const colors = new SeriesColors();
  const first = render(
    {
      type: 'line',
      title: 'a',
      series: [
        { name: 'x', points: [[1, 1]] },
        { name: 'dpo', points: [[1, 2]] },
      ],
    },
    colors,
  ).svg;
  const second = render(
    {
      type: 'bar',
      title: 'b',
      series: [
        { name: 'dpo', points: [['k', 1]] },
        { name: 'base', points: [['k', 2]] },
      ],
    },
    colors,
  ).svg;
  assert.match(first, new RegExp(`fill="${PALETTE[1]}"`));
  assert.match(second, new RegExp(`class="bar"[^>]*fill="${PALETTE[1]}"`), 'dpo is the second colour in both');
  colors.setVariant('run b · dpo', 'dpo', 1);
  assert.equal(colors.style('run b · dpo').color, PALETTE[1]);
  assert.ok(colors.style('run b · dpo').dash, 'a variant is dashed');
});

test('text from data is escaped inside SVG', () => {
  const evil = '<script>alert("x")</script> & co';
  const { svg } = render({
    type: 'bar',
    title: evil,
    xLabel: evil,
    yLabel: evil,
    series: [
      { name: evil, points: [[evil, 1]] },
      { name: 'b', points: [[evil, 2]] },
    ],
  });
  assert.doesNotMatch(svg, /<script/);
  assert.match(svg, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; co/);
});

test('± standard errors are drawn as error bars, and the axis makes room for them', () => {
  const bar = render({
    type: 'bar',
    title: 'gold reward by method',
    series: [
      {
        name: 'gold',
        points: [
          ['sample', 0.03],
          ['w2s', 0.19],
          ['ivg', 0.72],
        ],
        errors: [0.04, 0.05, null],
      },
    ],
  });
  assert.equal(count(bar.svg, /class="error-bar"/), 2, 'one bar per point that has an error');
  assert.match(bar.svg, /w2s = 0\.19 ± 0\.05/);
  const scatter = render({
    type: 'scatter',
    title: 'reward vs compute',
    series: [{ name: 'a', points: [[10, 0.5]], errors: [0.4] }],
  });
  assert.equal(count(scatter.svg, /class="error-bar"/), 1);
  assert.match(scatter.svg, />1\.0</, 'the y axis reaches the top of the error bar (0.5 + 0.4)');
  assert.match(scatter.svg, />0\.0</, 'and its bottom (0.5 − 0.4)');
});
