/**
 * The main job's summary from its rows: every method's gold reward as the mean over draws ± the
 * standard error across draws (each draw's value is the mean over its test prompts), the compute
 * curve of Best-of-N and weak-to-strong search, the tuned small models of each draw, example
 * responses side by side, and the plots. Tables hold rounded numbers so that what the terminal
 * prints, the README shows and summary.json keeps are the same figures.
 */
import type { Plot, Summary, Table } from '../run/summary.ts';
import type { MainJobOptions, MethodRow } from './main-job.ts';
import { GUIDES } from './guide-quality.ts';
import type { TunedModels } from './tune-small.ts';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
/** standard error of the mean of `xs` (sample standard deviation / √n) */
const standardError = (xs: readonly number[]) => {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1) / Math.max(1, xs.length));
};
/** rounded for the tables; null (printed —) where there is no value, e.g. the standard error of one draw */
const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/**
 * The tables `alignkit demo` prints and the README shows (`readmeTables` of the summary: title
 * prefixes); the examples and the timing are in the report only.
 */
const PRINTED_TABLES = [
  'Methods at matched compute',
  'Reward vs compute',
  'How well each guide ranks',
  'The tuned small models',
];

export function printedTables(summary: Summary): Table[] {
  const wanted = summary.readmeTables ?? PRINTED_TABLES;
  return summary.tables.filter((t) => wanted.some((p) => t.title.startsWith(p)));
}

export interface MethodFigures {
  method: string;
  budget: number;
  /** per-draw mean gold reward */
  perDraw: number[];
  gold: number;
  goldError: number;
  baseLogprob: number;
  baseLogprobError: number;
  tokensProcessed: number;
  seconds: number;
}

export function methodFigures(rows: readonly MethodRow[], method: string, budget: number): MethodFigures {
  const mine = rows.filter((r) => r.method === method && r.budget === budget);
  const draws = [...new Set(mine.map((r) => r.draw))].sort((a, b) => a - b);
  const perDraw = draws.map((d) => mean(mine.filter((r) => r.draw === d).map((r) => r.gold)));
  const logpPerDraw = draws.map((d) => mean(mine.filter((r) => r.draw === d).map((r) => r.baseLogprob)));
  return {
    method,
    budget,
    perDraw,
    gold: mean(perDraw),
    goldError: standardError(perDraw),
    baseLogprob: mean(logpPerDraw),
    baseLogprobError: standardError(logpPerDraw),
    tokensProcessed: mean(mine.map((r) => r.tokensProcessed)),
    seconds: mean(mine.map((r) => r.seconds)),
  };
}

type SummaryOptions = Pick<
  MainJobOptions,
  'search' | 'budgets' | 'draws' | 'testPrompts' | 'trainPrompts' | 'tune' | 'guideSamples' | 'maxNewTokens'
>;

export function methodLabel(method: string, budget: number, o: Pick<MainJobOptions, 'search'>): string {
  const s = o.search;
  const side = budget === s.beams * s.successors ? [s.beams, s.successors] : [Math.sqrt(budget), Math.sqrt(budget)];
  switch (method) {
    case 'sample':
      return 'plain sampling';
    case 'bon':
      return `Best-of-${budget} (small-pair log-ratio)`;
    case 'eft':
      return `EFT (β = ${s.beta})`;
    case 'w2s':
      return `weak-to-strong search (W ${side[0]}, K ${side[1]}, L ${s.chunkLength})`;
    case 'ivg':
      return `IVG (EFT mixture + value model, W ${side[0]}, K ${side[1]}, L ${s.chunkLength})`;
    default:
      return method;
  }
}

export function mainJobSummary(
  rows: readonly MethodRow[],
  tuned: readonly TunedModels[],
  guides: readonly Record<string, number>[],
  o: SummaryOptions,
): Summary {
  const matched = o.search.beams * o.search.successors;
  const headline = ['sample', 'bon', 'eft', 'w2s', 'ivg'].map((m) =>
    methodFigures(rows, m, m === 'sample' || m === 'eft' ? 1 : matched),
  );
  const curve = (method: string) =>
    [...new Set([...o.budgets, matched])].sort((a, b) => a - b).map((b) => methodFigures(rows, method, b));
  const sample = headline[0];

  const methodsTable: Table = {
    title: `Methods at matched compute (${matched} samples per prompt for Best-of-N, W2S and IVG; mean over ${o.draws} draws ± standard error)`,
    columns: [
      'method',
      'gold reward (VADER)',
      '± s.e.',
      'per draw',
      'log p under the base / token',
      'tokens processed / prompt',
    ],
    rows: headline.map((f) => [
      methodLabel(f.method, f.budget, o),
      round(f.gold),
      round(f.goldError),
      f.perDraw.map((x) => x.toFixed(2)).join(' / '),
      round(f.baseLogprob, 2),
      Math.round(f.tokensProcessed),
    ]),
    note: `${o.draws} independent draw${o.draws === 1 ? '' : 's'} of ${o.trainPrompts} training prompts, ${o.testPrompts} test prompts and the seeds; each draw tunes its own small model and value model. Gold reward: VADER compound of the ${o.tune.maxNewTokens}-token continuation (−1…1); plain sampling scores ${sample.gold.toFixed(3)}.`,
  };
  const curveTable: Table = {
    title: 'Reward vs compute (samples per prompt: N of Best-of-N, W·K of weak-to-strong search)',
    columns: ['method', 'samples / prompt', 'gold reward (VADER)', '± s.e.', 'tokens processed / prompt'],
    rows: ['bon', 'w2s'].flatMap((m) =>
      curve(m).map((f) => [m, f.budget, round(f.gold), round(f.goldError), Math.round(f.tokensProcessed)]),
    ),
  };
  const tunedTable: Table = {
    title: 'The tuned small models (one per draw)',
    columns: [
      'draw',
      'preference pairs',
      'mean reward chosen',
      'mean reward rejected',
      'DPO accuracy (last step)',
      'DPO margin (last step)',
      'value MSE (last step)',
    ],
    rows: tuned.map((t, d) => [
      d + 1,
      t.stats.pairs,
      round(t.stats.meanChosen),
      round(t.stats.meanRejected),
      round(t.stats.dpo['rewards/accuracies'] ?? NaN),
      round(t.stats.dpo['rewards/margins'] ?? NaN),
      round(t.stats.value.mse ?? NaN, 4),
    ]),
  };

  const guideTable: Table = {
    title: `How well each guide ranks the large model's samples (Spearman ρ with the gold reward within a prompt, ${o.guideSamples} samples per test prompt; mean over draws ± standard error)`,
    columns: ['guide', 'ρ', '± s.e.', 'per draw'],
    rows: Object.entries(GUIDES).map(([label, key]) => {
      const perDraw = guides.map((g) => g[key]);
      return [label, round(mean(perDraw)), round(standardError(perDraw)), perDraw.map((x) => x.toFixed(2)).join(' / ')];
    }),
  };

  // examples: the first prompts of draw 1, each method's response side by side with its reward
  const exampleIndexes = [...new Set(rows.filter((r) => r.draw === 0).map((r) => r.index))].sort((a, b) => a - b);
  const examples: Table = {
    title: 'Example responses (draw 1, the first test prompts; gold reward in brackets)',
    columns: [
      'method',
      ...exampleIndexes.slice(0, 3).map((i) => rows.find((r) => r.draw === 0 && r.index === i)!.prompt + ' …'),
    ],
    rows: headline.map((f) => [
      methodLabel(f.method, f.budget, o),
      ...exampleIndexes.slice(0, 3).map((i) => {
        const r = rows.find((x) => x.draw === 0 && x.index === i && x.method === f.method && x.budget === f.budget);
        return r ? `${r.text.trim()} [${r.gold.toFixed(2)}]` : '—';
      }),
    ]),
  };
  const timing: Table = {
    title: 'Time per prompt on this machine',
    columns: ['method', 'samples / prompt', 's / prompt'],
    rows: [...headline, ...curve('bon'), ...curve('w2s')]
      .filter((f, i, all) => all.findIndex((g) => g.method === f.method && g.budget === f.budget) === i)
      .map((f) => [f.method, f.budget, round(f.seconds, 3)]),
  };

  const point = (f: MethodFigures, x: number): [number, number] => [x, f.gold];
  const plots: Plot[] = [
    {
      type: 'scatter',
      title: 'Gold reward vs compute (mean over draws ± standard error)',
      xLabel: 'tokens processed per prompt, all models (log)',
      yLabel: 'gold reward (VADER)',
      xScale: 'log',
      series: [
        ...['bon', 'w2s'].map((m) => ({
          name: m === 'bon' ? 'Best-of-N' : 'weak-to-strong search',
          mode: 'line+markers' as const,
          points: curve(m).map((f) => point(f, f.tokensProcessed)),
          errors: curve(m).map((f) => f.goldError),
        })),
        ...headline
          .filter((f) => !['bon', 'w2s'].includes(f.method))
          .map((f) => ({
            name: methodLabel(f.method, f.budget, o),
            points: [point(f, f.tokensProcessed)],
            errors: [f.goldError],
          })),
      ],
      note: `Best-of-N at N and weak-to-strong search at W·K ∈ {${[...new Set([...o.budgets, matched])].sort((a, b) => a - b).join(', ')}}.`,
    },
    {
      type: 'scatter',
      title: 'Gold reward vs closeness to the base model',
      xLabel: 'log p under the large base model, per token',
      yLabel: 'gold reward (VADER)',
      series: headline.map((f) => ({
        name: methodLabel(f.method, f.budget, o),
        points: [point(f, f.baseLogprob)],
        errors: [f.goldError],
      })),
    },
  ];
  return {
    kind: 'demo',
    title: 'Controlled sentiment on the embedded models: steering stories260K with a DPO-tuned small model',
    metrics: Object.fromEntries(headline.map((f) => [`gold reward: ${f.method}`, f.gold])),
    leadTables: 1,
    readmeTables: PRINTED_TABLES,
    tables: [examples, methodsTable, curveTable, guideTable, tunedTable, timing],
    plots,
  };
}
