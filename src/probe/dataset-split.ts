import { inputError } from '../errors.ts';
import { createRng } from '../util/random.ts';

export interface Split {
  train: number[];
  val: number[];
  test: number[];
}

export const splitFractions = { train: 0.6, val: 0.2 } as const;
export const minimumSplit = { train: 5, val: 2, test: 2 } as const;
export const minimumItems = minimumSplit.train + minimumSplit.val + minimumSplit.test;

export function requireEnoughItems(n: number, what: string): void {
  if (n < minimumItems)
    throw inputError(
      `${what}: ${n} item${n === 1 ? '' : 's'}, but a 60/20/20 split needs at least ${minimumItems} (≥${minimumSplit.train} train, ≥${minimumSplit.val} validation, ≥${minimumSplit.test} test); collect more prompts`,
    );
}

/**
 * A seeded 60/20/20 train/validation/test split of n items. With `strata` (class labels)
 * each class is split in those proportions, so small classes appear in every part.
 * `what` names the data in the error when there are too few items.
 */
export function splitIndices(n: number, seed: number, what: string, strata?: ArrayLike<number>): Split {
  requireEnoughItems(n, what);
  const rng = createRng(seed * 16);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const key = strata ? strata[i] : 0;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(i);
  }
  const split: Split = { train: [], val: [], test: [] };
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(groups.get(key)!);
    const nTrain = Math.max(1, Math.round(members.length * splitFractions.train));
    const nVal = Math.round(members.length * splitFractions.val);
    split.train.push(...members.slice(0, nTrain));
    split.val.push(...members.slice(nTrain, nTrain + nVal));
    split.test.push(...members.slice(nTrain + nVal));
  }
  // stratified rounding can starve a part; move items from train until each has its minimum
  for (const part of ['val', 'test'] as const) {
    while (split[part].length < minimumSplit[part] && split.train.length > minimumSplit.train)
      split[part].push(split.train.pop()!);
  }
  for (const part of ['train', 'val', 'test'] as const) rng.shuffle(split[part]);
  return split;
}
