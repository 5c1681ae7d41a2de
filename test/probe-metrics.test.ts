import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  averageRanks,
  classificationChance,
  kendall,
  macroF1,
  pearson,
  r2,
  regressionChance,
  spearman,
} from '../src/probe/metrics.ts';

const close = (actual: number, expected: number, tol = 1e-6) =>
  assert.ok(Math.abs(actual - expected) < tol, `${actual} ≠ ${expected}`);

test('average ranks share ties', () => {
  assert.deepEqual([...averageRanks([10, 20, 20, 30, 20])], [1, 3, 3, 5, 3]);
});

test('Pearson, Spearman with ties and Kendall tau-b against hand-computed values', () => {
  close(pearson([1, 2, 3], [2, 4, 7]), 5 / Math.sqrt(2 * (114 / 9)));
  // ranks of a: 1, 2.5, 2.5, 4; of b: 1, 3, 2, 4  ->  4.5 / sqrt(4.5 * 5)
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), 3 / Math.sqrt(10));
  // 5 concordant pairs, 0 discordant, one pair tied in a only  ->  5 / sqrt(6 * 5)
  close(kendall([1, 2, 2, 3], [1, 3, 2, 4]), 5 / Math.sqrt(30));
  close(spearman([1, 2, 3, 4], [40, 30, 20, 10]), -1);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), 0, 'a constant side has no correlation');
});

test('R² against a hand-computed value', () => {
  // truth mean 7/3: SStot = 42/9, SSres = 1
  close(r2([1, 2, 3], [1, 2, 4]), 1 - 9 / 42);
  close(r2([5, 5, 5], [4, 5, 6]), 0);
});

test('accuracy and macro-F1 against hand-computed values', () => {
  const truth = [0, 0, 1, 1, 2],
    pred = [0, 1, 1, 1, 0];
  close(accuracy(pred, truth), 0.6);
  // F1: class 0 = 2/4, class 1 = 4/5, class 2 = 0
  close(macroF1(pred, truth), (0.5 + 0.8 + 0) / 3);
  close(macroF1([1, 1], [1, 1]), 1);
});

test('chance levels: train mean and train majority class', () => {
  const reg = regressionChance([1, 3], [0, 4]);
  close(reg.r2, 0);
  close(reg.spearman, 0);
  const cls = classificationChance([1, 1, 0], [1, 0, 1, 2]);
  close(cls.accuracy, 0.5);
  close(cls.macroF1, 4 / 6 / 3);
});
