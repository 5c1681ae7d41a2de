/**
 * test/fixtures/lc-winrate-official.json (see its SOURCE.md): synthetic preference sets with the
 * official LC fit's outputs, read by the tests and by scripts/lc-winrate-table.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Comparison, GamedRow, LcVariant } from '../../src/eval/winrate/official-lc.ts';

export interface FixtureSet {
  name: string;
  generating: { true_lc: number };
  /** AlpacaEval's coding: [1, 2], a draw 1.5 or 0, null = failed */
  preference: (number | null)[];
  len_baseline: number[];
  len_model: number[];
  difficulty?: number[];
  gamed?: { models: string[]; preference: number[]; std_delta_len: number[] };
  annotations?: Record<string, unknown>[];
  raw: Record<string, number>;
  official: Record<
    LcVariant,
    { lc: number; lc_se: number; coef: Record<string, number>; best_c: number; cv_scores: number[] }
  >;
}

export const lcFixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'lc-winrate-official.json'), 'utf8'),
) as {
  cs: number[];
  sets: FixtureSet[];
  liblinear_seeds: number[];
  argsort_equal_keys: Record<string, number[]>;
  solver: {
    x: number[][];
    p: (number | null)[];
    w: number[];
    problems: { C: number; liblinear_tight: number[]; liblinear_default: number[]; saga_tight: number[] }[];
  };
};

export const fixtureSet = (name: string) => lcFixture.sets.find((s) => s.name === name)!;

/** AlpacaEval's preference coding → P(model preferred). */
export const asProbability = (p: number | null) => (p === null ? null : (p === 0 ? 1.5 : p) - 1);

export function comparisonsOf(set: FixtureSet): Comparison[] {
  return set.preference.map((p, i) => ({
    preference: asProbability(p),
    modelLength: set.len_model[i],
    baselineLength: set.len_baseline[i],
    ...(set.difficulty ? { difficulty: set.difficulty[i] } : {}),
  }));
}

/** The set's df_gamed.csv rows: each gamed baseline on every instruction in turn. */
export function gamedOf(set: FixtureSet): GamedRow[] | undefined {
  const n = set.preference.length;
  return set.gamed?.preference.map((preference, k) => ({
    preference,
    stdDeltaLen: set.gamed!.std_delta_len[k],
    difficulty: set.difficulty![k % n],
    notGamedBaseline: false,
  }));
}
