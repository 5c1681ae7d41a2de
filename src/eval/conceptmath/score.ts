/** Concept-wise accuracy (benchmarks.md §2.6), reusable by anything that ranks concepts. */

export interface ConceptOutcome {
  /** the system (file) the item belongs to; concept trees are per system */
  grade: string;
  cate0: string;
  cate1: string;
  cate2: string;
  correct: boolean;
}

export interface Accuracy {
  right: number;
  count: number;
  /** right / count (null when count is 0) */
  accuracy: number | null;
}

export interface ConceptAccuracy extends Accuracy {
  grade: string;
  /** 0 = cate0, 1 = cate0/cate1, 2 = cate0/cate1/cate2 (leaf) */
  level: 0 | 1 | 2;
  /** the concept path joined with '/', as the reference names nodes */
  concept: string;
}

const accuracyOf = (right: number, count: number): Accuracy => ({
  right,
  count,
  accuracy: count ? right / count : null,
});

/** Accuracy per system (micro: correct / items). */
export function setAccuracy(outcomes: readonly ConceptOutcome[]): (Accuracy & { grade: string })[] {
  const by = new Map<string, [number, number]>();
  for (const o of outcomes) {
    const c = by.get(o.grade) ?? [0, 0];
    c[0] += o.correct ? 1 : 0;
    c[1]++;
    by.set(o.grade, c);
  }
  return [...by.entries()].map(([grade, [r, n]]) => ({ grade, ...accuracyOf(r, n) }));
}

/**
 * Every item counts towards its concept at all three levels (cate0, cate0/cate1,
 * cate0/cate1/cate2) within its system. Nodes come out in first-seen order per level.
 */
export function conceptAccuracy(outcomes: readonly ConceptOutcome[]): ConceptAccuracy[] {
  const nodes = new Map<string, { grade: string; level: 0 | 1 | 2; concept: string; right: number; count: number }>();
  for (const o of outcomes) {
    const paths = [o.cate0, `${o.cate0}/${o.cate1}`, `${o.cate0}/${o.cate1}/${o.cate2}`];
    paths.forEach((concept, level) => {
      const id = `${o.grade}\u0000${level}\u0000${concept}`;
      const node = nodes.get(id) ?? { grade: o.grade, level: level as 0 | 1 | 2, concept, right: 0, count: 0 };
      node.right += o.correct ? 1 : 0;
      node.count++;
      nodes.set(id, node);
    });
  }
  return [...nodes.values()]
    .sort((a, b) => a.level - b.level)
    .map((n) => ({ grade: n.grade, level: n.level, concept: n.concept, ...accuracyOf(n.right, n.count) }));
}

/** The weakest concepts at a level (ascending accuracy, then more items first, then name). */
export function weakestConcepts(
  concepts: readonly ConceptAccuracy[],
  options: { level?: 0 | 1 | 2; n?: number; minCount?: number; grade?: string } = {},
): ConceptAccuracy[] {
  const { level = 2, n = 10, minCount = 1, grade } = options;
  return concepts
    .filter(
      (c) =>
        c.level === level && c.count >= minCount && c.accuracy !== null && (grade === undefined || c.grade === grade),
    )
    .sort((a, b) => a.accuracy! - b.accuracy! || b.count - a.count || a.concept.localeCompare(b.concept))
    .slice(0, n);
}
