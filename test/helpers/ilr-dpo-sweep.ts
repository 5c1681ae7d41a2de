/**
 * The iLR-DPO measurement behind the README's claim: `train ilr-dpo` on the stories260K EOS model
 * (sentiment reward, 3 iterations) for every α × seed, with the reward and the mean length of
 * each iteration's policy. The run folder gets summary.json (a table of the changes over the
 * iterations, mean ± standard error over seeds, and the curves per iteration) and report.html,
 * so `npm run readme -- --record ilr-dpo DIR "…"` can put it in the README.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run as cli } from '../../src/cli/main.ts';
import { RunDir } from '../../src/run/run-dir.ts';
import { finishRun } from '../../src/report/finish-run.ts';
import type { Summary } from '../../src/run/summary.ts';

export interface IterationFigures {
  iteration: number;
  reward: number;
  length: number;
}

export interface SweepCurve {
  alpha: number;
  seed: number;
  iterations: IterationFigures[];
}

export const ILR_SETTINGS = { iterations: 3, samplesPerPrompt: 4, maxNewTokens: 96, lr: 1e-4, epochs: 2, batchSize: 8 };

export async function ilrDpoCurve(
  sft: string,
  prompts: string,
  evalPrompts: string,
  alpha: number,
  seed: number,
  out: string,
): Promise<SweepCurve> {
  const s = ILR_SETTINGS;
  const code = await cli([
    'train',
    'ilr-dpo',
    ...['--model', sft, '--prompts', prompts, '--eval-prompts', evalPrompts, '--reward', 'sentiment'],
    ...['--iterations', String(s.iterations), '--samples-per-prompt', String(s.samplesPerPrompt)],
    ...['--max-new-tokens', String(s.maxNewTokens), '--length-alpha', String(alpha), '--lr', String(s.lr)],
    ...['--epochs', String(s.epochs), '--batch-size', String(s.batchSize), '--seed', String(seed)],
    ...['--out', out, '--quiet'],
  ]);
  if (code !== 0) throw new Error(`train ilr-dpo (α ${alpha}, seed ${seed}) exited with ${code}`);
  const iterations = readFileSync(join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as IterationFigures)
    .map(({ iteration, reward, length }) => ({ iteration, reward, length }));
  return { alpha, seed, iterations };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const standardError = (xs: readonly number[]) =>
  xs.length < 2 ? NaN : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length);
const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** Change of the reward and relative change of the length from π_0 to the last policy. */
export function changes(c: SweepCurve): { reward: number; length: number } {
  const first = c.iterations[0];
  const last = c.iterations[c.iterations.length - 1];
  return { reward: last.reward - first.reward, length: last.length / first.length - 1 };
}

export function sweepSummary(curves: readonly SweepCurve[], settings: Record<string, unknown>): Summary {
  const alphas = [...new Set(curves.map((c) => c.alpha))].sort((a, b) => a - b);
  const last = ILR_SETTINGS.iterations;
  const rows = alphas.map((alpha) => {
    const mine = curves.filter((c) => c.alpha === alpha);
    const d = mine.map(changes);
    return [
      alpha,
      mine.length,
      round(mean(mine.map((c) => c.iterations[0].reward))),
      round(mean(mine.map((c) => c.iterations[last].reward))),
      round(mean(d.map((x) => x.reward))),
      round(standardError(d.map((x) => x.reward))),
      round(mean(mine.map((c) => c.iterations[0].length)), 1),
      round(mean(mine.map((c) => c.iterations[last].length)), 1),
      round(100 * mean(d.map((x) => x.length)), 1),
      round(100 * standardError(d.map((x) => x.length)), 1),
      d.map((x) => `${x.length >= 0 ? '+' : ''}${(100 * x.length).toFixed(0)}`).join(' / '),
    ];
  });
  const curve = (what: 'reward' | 'length') => ({
    type: 'line' as const,
    title: `${what === 'reward' ? 'Reward (VADER)' : 'Mean length (tokens)'} by iteration, mean over seeds ± standard error`,
    xLabel: 'iteration (0 = the SFT model)',
    yLabel: what === 'reward' ? 'reward (VADER)' : 'length (tokens)',
    series: alphas.map((alpha) => {
      const mine = curves.filter((c) => c.alpha === alpha);
      const at = (i: number) => mine.map((c) => c.iterations[i][what]);
      const steps = mine[0].iterations.map((x) => x.iteration);
      return {
        name: `α = ${alpha}`,
        points: steps.map((i) => [i, mean(at(i))] as [number, number]),
        errors: steps.map((i) => standardError(at(i))),
      };
    }),
  });
  return {
    kind: 'ilr-dpo sweep',
    title: 'iLR-DPO on stories260K: the length margin α against reward and length, over seeds',
    metrics: {},
    tables: [
      {
        title: `iLR-DPO, ${last} iterations, α × ${[...new Set(curves.map((c) => c.seed))].length} seeds (π₀ → π${last}; mean over seeds, ± standard error of the change)`,
        columns: [
          'α',
          'seeds',
          'reward π₀',
          `reward π${last}`,
          'reward change',
          '± s.e.',
          'length π₀',
          `length π${last}`,
          'length change %',
          '± s.e. %',
          'length change % per seed',
        ],
        rows,
      },
    ],
    plots: [curve('reward'), curve('length')],
    settings,
    curves,
  };
}

/** Writes the sweep's summary.json and report.html into `dir`. */
export function writeSweep(dir: string, curves: readonly SweepCurve[], settings: Record<string, unknown>): Summary {
  mkdirSync(dir, { recursive: true });
  const summary = sweepSummary(curves, settings);
  const run = RunDir.create(dir, { overwrite: true });
  run.writeConfig({ command: 'ilr-dpo sweep', ...settings });
  finishRun(run, summary);
  return summary;
}
