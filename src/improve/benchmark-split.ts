/**
 * The benchmark is split in two, stratified by leaf concept: the reference part trains the
 * concept classifier, supplies the teacher's few-shot examples and ranks the concepts; the
 * evaluation part is never used for any of that and is where before/after is reported.
 *
 * Why not cross-fitting: the fine-tuned model is one model trained on data chosen with the
 * classifier; with K folds, the data that fold k's classifier selects still enters the single
 * model that is then evaluated on every fold, so no fold would stay clean. A split is the
 * honest way to get untouched evaluation items. Ranking on the reference part (not on the items
 * reported) also keeps "the weakest concepts got better" from being regression to the mean.
 */
import type { ConceptMathItem } from '../eval/conceptmath/data.ts';
import { stratifiedSplit } from '../eval/concepts/stratified-split.ts';

export interface BenchmarkSplit {
  reference: ConceptMathItem[];
  evaluation: ConceptMathItem[];
}

export function splitBenchmark(
  items: readonly ConceptMathItem[],
  referenceFraction: number,
  seed: number,
): BenchmarkSplit {
  const { first, second } = stratifiedSplit(
    items,
    (i) => [i.grade, i.cate0, i.cate1, i.cate2].join('\u0000'),
    referenceFraction,
    seed,
  );
  return { reference: first, evaluation: second };
}
