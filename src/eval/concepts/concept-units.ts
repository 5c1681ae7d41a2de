/**
 * The concepts targeted by improvement: leaf concepts, except that a leaf with too few items to
 * measure its accuracy is pooled with the other small leaves of its parent (and those, if still
 * too few, with the small ones of its top-level concept). Units partition the items, so "the
 * weakest N" and "the rest" never share an item.
 */
import type { ConceptMathItem } from '../conceptmath/data.ts';
import { systemName } from '../conceptmath/data.ts';
import type { ConceptOutcome } from '../conceptmath/score.ts';

export interface ConceptUnit {
  /** `<grade>:<concept path>`: the classifier's label */
  id: string;
  grade: string;
  /** 2 = a leaf; 1 and 0 = small leaves pooled under a parent */
  level: 0 | 1 | 2;
  /** the path as conceptAccuracy names level-2 nodes: `cate0/cate1/cate2`, pooled parts as POOLED */
  concept: string;
  /** cate0, cate1, cate2 of the unit (pooled parts as POOLED) */
  path: [string, string, string];
}

export const POOLED = '(small leaves)';

type Path = Pick<ConceptMathItem, 'grade' | 'cate0' | 'cate1' | 'cate2'>;

const key = (...parts: string[]) => parts.join('\u0000');

export const unitName = (u: Pick<ConceptUnit, 'grade' | 'concept'>) => `${systemName(u.grade)} · ${u.concept}`;

export interface ConceptUnits {
  units: ConceptUnit[];
  unitOf(item: Path): ConceptUnit;
  byId: Map<string, ConceptUnit>;
  minItems: number;
}

/**
 * Assigns every item a unit. `counted` are the items whose number decides (the part accuracy is
 * ranked on); a leaf needs `minItems` of them to stand alone.
 */
export function conceptUnits(items: readonly Path[], counted: readonly Path[], minItems: number): ConceptUnits {
  const leafCount = new Map<string, number>();
  for (const i of counted)
    leafCount.set(
      key(i.grade, i.cate0, i.cate1, i.cate2),
      (leafCount.get(key(i.grade, i.cate0, i.cate1, i.cate2)) ?? 0) + 1,
    );
  const isBigLeaf = (i: Path) => (leafCount.get(key(i.grade, i.cate0, i.cate1, i.cate2)) ?? 0) >= minItems;
  const pooledParent = new Map<string, number>();
  for (const i of counted)
    if (!isBigLeaf(i))
      pooledParent.set(key(i.grade, i.cate0, i.cate1), (pooledParent.get(key(i.grade, i.cate0, i.cate1)) ?? 0) + 1);
  const isBigParent = (i: Path) => (pooledParent.get(key(i.grade, i.cate0, i.cate1)) ?? 0) >= minItems;

  const byId = new Map<string, ConceptUnit>();
  const make = (grade: string, level: 0 | 1 | 2, path: [string, string, string]): ConceptUnit => {
    const concept = path.join('/');
    const id = `${grade}:${concept}`;
    if (!byId.has(id)) byId.set(id, { id, grade, level, concept, path });
    return byId.get(id)!;
  };
  const unitOf = (i: Path): ConceptUnit => {
    if (isBigLeaf(i)) return make(i.grade, 2, [i.cate0, i.cate1, i.cate2]);
    if (isBigParent(i)) return make(i.grade, 1, [i.cate0, i.cate1, POOLED]);
    return make(i.grade, 0, [i.cate0, POOLED, POOLED]);
  };
  for (const i of items) unitOf(i);
  return { units: [...byId.values()], unitOf, byId, minItems };
}

/** An outcome re-labelled so that conceptAccuracy's level-2 nodes are the units. */
export function unitOutcome<T extends ConceptOutcome>(units: ConceptUnits, outcome: T): ConceptOutcome {
  const [cate0, cate1, cate2] = units.unitOf(outcome).path;
  return { grade: outcome.grade, cate0, cate1, cate2, correct: outcome.correct };
}
