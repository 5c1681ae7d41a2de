import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Summary } from '../src/run/summary.ts';
import { writeReport } from '../src/report/write-report.ts';
import { writeComparison } from '../src/report/compare.ts';
import { allSamples, sampleConfig } from './helpers/report-samples.ts';
import { CHROMIUM, browserSkip, requireChromium } from './helpers/browser.ts';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const root = mkdtempSync(join(tmpdir(), 'alignkit-browser-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A summary with the awkward cases: markup in every text field, empty and gappy plots. */
const awkward: Summary = {
  kind: 'eval <b>x</b>',
  title: '<img src="missing.png" onerror="console.error(\'escaped badly\')"> awkward',
  metrics: { '<script>console.error(1)</script>': null, nan: 'NaN' },
  tables: [{ title: 'empty', columns: [], rows: [] }],
  plots: [
    {
      type: 'line',
      title: 'gaps and one point',
      series: [
        {
          name: '<i>a</i>',
          points: [
            [1, 1],
            [2, null as unknown as number],
            [3, 2],
          ],
        },
        { name: 'b', points: [[2, 5]] },
      ],
    },
    {
      type: 'bar',
      title: 'negative',
      series: [
        {
          name: 'v',
          points: [
            ['a', -2],
            ['b', 3],
            ['a very long category label that has to be cut somewhere', 1],
          ],
        },
      ],
    },
  ],
};

function writeRun(name: string, summary: Summary): string {
  const dir = join(root, 'runs', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(sampleConfig));
  writeReport(dir);
  return dir;
}

interface PlotCheck {
  drawnMarks: number;
  visibleMarks: number;
  width: number;
  height: number;
  textOutside: string[];
}

/** What each SVG plot on the page draws: marks with a non-empty box, its size, text escaping its box. */
function checkPlots(page: Page): Promise<PlotCheck[]> {
  return page.$$eval('figure.plot svg.chart', (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const marks = [
        ...svg.querySelectorAll('.series-line, .point, .bar, .radar-area, .heat-cell'),
      ] as SVGGraphicsElement[];
      const visible = marks.filter((m) => {
        const r = m.getBoundingClientRect();
        return r.width > 0 || r.height > 0;
      });
      const textOutside = [...svg.querySelectorAll('text')]
        .filter((t) => {
          const r = t.getBoundingClientRect();
          return r.left < box.left - 2 || r.right > box.right + 2 || r.top < box.top - 2 || r.bottom > box.bottom + 2;
        })
        .map((t) => t.textContent ?? '');
      return {
        drawnMarks: marks.length,
        visibleMarks: visible.length,
        width: box.width,
        height: box.height,
        textOutside,
      };
    }),
  );
}

/** Decodes a PNG in the browser and measures how much of it is not background, and how many pixels are in colour (series, not grey axes). */
function inkOf(page: Page, png: Buffer): Promise<{ inked: number; coloured: number; colors: number }> {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, img.width, img.height).data;
    let inked = 0;
    let coloured = 0;
    const colors = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235) inked++;
      if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 40) coloured++;
      colors.add(((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4));
    }
    const pixels = img.width * img.height;
    return { inked: inked / pixels, coloured, colors: colors.size };
  }, png.toString('base64'));
}

test(
  'reports and the comparison page open in headless Chromium without errors, and their plots render',
  { skip: browserSkip, timeout: 120_000 },
  async (t) => {
    requireChromium();
    const pages: { file: string; plots: number }[] = [];
    const dirs = Object.entries(allSamples).map(([name, summary]) => {
      const dir = writeRun(name, summary);
      pages.push({ file: join(dir, 'report.html'), plots: summary.plots.length });
      return dir;
    });
    pages.push({ file: join(writeRun('awkward', awkward), 'report.html'), plots: awkward.plots.length });
    const second = writeRun('steering-2', {
      ...allSamples.steering,
      metrics: { ...allSamples.steering.metrics, 'gold reward (ivg)': 0.7 },
    });
    const compare = writeComparison([dirs[0], second, dirs[2]], join(root, 'compare.html'));
    pages.push({ file: compare, plots: -1 });

    const context: BrowserContext = await chromium.launchPersistentContext(mkdtempSync(join(root, 'profile-')), {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
    try {
      const scratch = await context.newPage();
      for (const { file, plots } of pages) {
        const page = await context.newPage();
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
        page.on('request', (r) => requests.push(r.url()));
        const url = pathToFileURL(file).href;
        await page.goto(url, { waitUntil: 'load' });
        assert.deepEqual(problems, [], `${file}: no console errors`);
        assert.deepEqual(requests, [url], `${file}: loads nothing but itself`);

        const checks = await checkPlots(page);
        if (plots >= 0) assert.equal(checks.length, plots, `${file}: one SVG per plot`);
        else assert.ok(checks.length >= 2, 'the comparison shows plots');
        for (const [i, c] of checks.entries()) {
          assert.ok(c.width > 300 && c.height > 150, `${file} plot ${i}: laid out at ${c.width}×${c.height}`);
          assert.ok(c.drawnMarks > 0, `${file} plot ${i}: draws something`);
          assert.equal(c.visibleMarks, c.drawnMarks, `${file} plot ${i}: every mark has a box on screen`);
          assert.deepEqual(c.textOutside, [], `${file} plot ${i}: no label spills out of its plot`);
        }
        for (const [i, figure] of (await page.$$('figure.plot svg.chart')).entries()) {
          const ink = await inkOf(scratch, await figure.screenshot());
          assert.ok(
            ink.inked > 0.005,
            `${file} plot ${i}: the screenshot is not blank (${(ink.inked * 100).toFixed(2)}% inked)`,
          );
          assert.ok(
            ink.coloured >= 50,
            `${file} plot ${i}: the series are drawn in colour (${ink.coloured} coloured pixels)`,
          );
          assert.ok(ink.colors >= 4, `${file} plot ${i}: more than background and text colours (${ink.colors})`);
        }
        const whole = await inkOf(scratch, await page.screenshot({ fullPage: true }));
        assert.ok(whole.inked > 0.01, `${file}: the page is not blank (${(whole.inked * 100).toFixed(1)}% inked)`);
        assert.equal(
          await page.$$eval('img, script[src], link[rel=stylesheet]', (els) => els.length),
          0,
          'no markup from data became elements',
        );
        if (file.endsWith('steering/report.html')) {
          const pdf = await page.pdf({ format: 'A4' });
          assert.ok(pdf.length > 10_000 && pdf.subarray(0, 5).toString() === '%PDF-', 'the report prints to PDF');
          assert.equal(
            await page.$eval('details.config', (d) => (d as HTMLDetailsElement).open),
            true,
            'printing opens the configuration',
          );
        }
        await page.close();
      }
    } finally {
      await context.close();
    }
  },
);

test('a wide table keeps every column on the page, on screen and in print', { skip: browserSkip }, async () => {
  requireChromium();
  const columns = Array.from({ length: 14 }, (_, i) => `a rather long column header number ${i + 1}`);
  const dir = writeRun('wide', {
    kind: 'eval wide',
    title: 'fourteen columns',
    tables: [
      {
        title: 'wide',
        columns,
        rows: Array.from({ length: 5 }, (_, r) => [
          `a text cell that goes on for a while in row ${r}`,
          ...columns.slice(1).map((_, c) => 1234.5678 * (r + 1) * (c + 1)),
        ]),
      },
    ],
    plots: [],
  });
  const context = await chromium.launchPersistentContext(mkdtempSync(join(root, 'profile-')), {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
  });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(join(dir, 'report.html')).href, { waitUntil: 'load' });
    // the printable width of an A4 page at 96 dpi with the report's 14 mm margins
    for (const [media, width] of [
      ['screen', 1280],
      ['print', 688],
    ] as const) {
      await page.emulateMedia({ media });
      await page.setViewportSize({ width, height: 900 });
      const fit = await page.$eval('.table-wrap', (wrap) => {
        const table = wrap.querySelector('table')!;
        const cells = [...table.querySelectorAll('th, td')].map((c) => c.getBoundingClientRect().right);
        return {
          overflow: table.scrollWidth - wrap.clientWidth,
          right: Math.max(...cells),
          page: document.documentElement.clientWidth,
        };
      });
      assert.ok(fit.overflow <= 1, `${media}: the table is ${fit.overflow}px wider than its card`);
      assert.ok(fit.right <= fit.page + 1, `${media}: a column ends at ${fit.right}px, past the page (${fit.page}px)`);
    }
    const pdf = await page.pdf({ format: 'A4' });
    assert.ok(pdf.subarray(0, 5).toString() === '%PDF-');
  } finally {
    await context.close();
  }
});
