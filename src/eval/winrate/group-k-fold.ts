/**
 * sklearn's `GroupKFold` folds for groups of equal size, as AlpacaEval's length-controlled fit
 * uses them (every comparison is a group of two rows). GroupKFold hands groups, largest first, to
 * the lightest fold; it orders the groups with numpy's default (unstable) argsort, so with equal
 * sizes the folds are fixed by the order that sort leaves equal keys in. That order is
 * reproduced here for numpy's portable introsort (`npysort/quicksort.cpp`, numpy ≤ 1.24 on any
 * CPU). numpy ≥ 1.25 on AVX-512 machines (and numpy 2 on AVX2) sorts with x86-simd-sort, which
 * leaves equal keys in another order: the official code then builds other folds from the same
 * data, and its C choice can differ where the cross-validation scores are nearly tied.
 */
import { AlignkitError } from '../../errors.ts';

/** numpy's insertion-sort cutoff: partitions of at most this many elements + 1 are not split. */
const SMALL_QUICKSORT = 15;

/** The permutation `numpy.argsort(a)` returns (non-SIMD quicksort) when all n keys of a are equal. */
export function numpyArgsortOfEqualKeys(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const swap = (a: number, b: number) => {
    [order[a], order[b]] = [order[b], order[a]];
  };
  // numpy falls back to heapsort for a part whose depth budget (2·⌊log2 n⌋) is spent; halving
  // partitions of equal keys never get there, which the check below holds to
  const stack: [number, number, number][] = [];
  let depth = 2 * (31 - Math.clz32(Math.max(n, 1)));
  let left = 0;
  let right = n - 1;
  for (;;) {
    if (depth < 0) throw new AlignkitError('internal', 'numpy argsort emulation: heapsort fallback reached');
    while (right - left > SMALL_QUICKSORT) {
      // median of three moves nothing when keys are equal; the pivot goes next to the right end
      const middle = left + ((right - left) >> 1);
      let i = left;
      let j = right - 1;
      swap(middle, j);
      // with equal keys each scan stops after one step, so the scans swap their way to the middle
      for (;;) {
        i++;
        j--;
        if (i >= j) break;
        swap(i, j);
      }
      swap(i, right - 1);
      // the larger part waits on the stack; the smaller is partitioned next
      depth--;
      if (i - left < right - i) {
        stack.push([i + 1, right, depth]);
        right = i - 1;
      } else {
        stack.push([left, i - 1, depth]);
        left = i + 1;
      }
    }
    // insertion sort leaves equal keys where they are
    const next = stack.pop();
    if (!next) break;
    [left, right, depth] = next;
  }
  return order;
}

/**
 * The fold (0 … nSplits − 1) of each of `groups` groups that hold the same number of rows, as
 * `GroupKFold(nSplits).split` assigns them: groups in reversed argsort order go round-robin to
 * the folds (each to the lightest, the first one on ties).
 */
export function groupKFoldOfEqualGroups(groups: number, nSplits: number): number[] {
  if (groups < nSplits)
    throw new AlignkitError('input', `GroupKFold needs at least ${nSplits} groups (judged comparisons), got ${groups}`);
  const fold = new Array<number>(groups);
  numpyArgsortOfEqualKeys(groups)
    .reverse()
    .forEach((group, k) => {
      fold[group] = k % nSplits;
    });
  return fold;
}
