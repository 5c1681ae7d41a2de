/**
 * Before/after per concept on the evaluation part, in the shape of the ConceptMath paper's
 * Table 3: the weakest N concepts' mean accuracy, the other concepts' mean accuracy (both means
 * over concepts, as the paper averages concepts), and overall accuracy (over items).
 */
import { conceptAccuracy, type ConceptOutcome } from '../eval/conceptmath/score.ts';
import { unitOutcome, type ConceptUnits } from '../eval/concepts/concept-units.ts';

export interface ConceptRow {
  concept: string;
  weak: boolean;
  /** 1-based rank among all concepts by reference-part accuracy (1 = weakest) */
  rank: number | null;
  referenceAccuracy: number | null;
  items: number;
  before: number | null;
  after: number | null;
}

export interface GroupRow {
  group: 'weakest' | 'rest' | 'overall';
  concepts: number;
  items: number;
  before: number | null;
  after: number | null;
}

export interface ImprovementTable {
  concepts: ConceptRow[];
  groups: GroupRow[];
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

function accuracyByUnit(
  units: ConceptUnits,
  outcomes: readonly ConceptOutcome[],
): Map<string, { accuracy: number | null; count: number }> {
  return new Map(
    conceptAccuracy(outcomes.map((o) => unitOutcome(units, o)))
      .filter((c) => c.level === 2)
      .map((c) => [`${c.grade}:${c.concept}`, { accuracy: c.accuracy, count: c.count }]),
  );
}

/** Concepts ranked by accuracy on the given outcomes: ascending, then more items first, then name. */
export function rankConcepts(
  units: ConceptUnits,
  outcomes: readonly ConceptOutcome[],
): { concept: string; accuracy: number; items: number }[] {
  return [...accuracyByUnit(units, outcomes)]
    .filter(([, a]) => a.accuracy !== null)
    .map(([concept, a]) => ({ concept, accuracy: a.accuracy!, items: a.count }))
    .sort((a, b) => a.accuracy - b.accuracy || b.items - a.items || (a.concept < b.concept ? -1 : 1));
}

export function improvementTable(o: {
  units: ConceptUnits;
  ranking: readonly { concept: string; accuracy: number }[];
  weak: readonly string[];
  before: readonly ConceptOutcome[];
  after: readonly ConceptOutcome[];
}): ImprovementTable {
  const before = accuracyByUnit(o.units, o.before);
  const after = accuracyByUnit(o.units, o.after);
  const weak = new Set(o.weak);
  const rank = new Map(o.ranking.map((r, i) => [r.concept, { rank: i + 1, accuracy: r.accuracy }]));
  const concepts: ConceptRow[] = [...new Set([...before.keys(), ...after.keys()])]
    .map((concept) => ({
      concept,
      weak: weak.has(concept),
      rank: rank.get(concept)?.rank ?? null,
      referenceAccuracy: rank.get(concept)?.accuracy ?? null,
      items: before.get(concept)?.count ?? after.get(concept)?.count ?? 0,
      before: before.get(concept)?.accuracy ?? null,
      after: after.get(concept)?.accuracy ?? null,
    }))
    .sort(
      (a, b) =>
        Number(b.weak) - Number(a.weak) ||
        (a.rank ?? Infinity) - (b.rank ?? Infinity) ||
        (a.concept < b.concept ? -1 : 1),
    );
  const group = (name: 'weakest' | 'rest', rows: ConceptRow[]): GroupRow => ({
    group: name,
    concepts: rows.length,
    items: rows.reduce((a, r) => a + r.items, 0),
    before: mean(rows.flatMap((r) => (r.before === null ? [] : [r.before]))),
    after: mean(rows.flatMap((r) => (r.after === null ? [] : [r.after]))),
  });
  const micro = (xs: readonly ConceptOutcome[]) => (xs.length ? xs.filter((x) => x.correct).length / xs.length : null);
  return {
    concepts,
    groups: [
      group(
        'weakest',
        concepts.filter((c) => c.weak),
      ),
      group(
        'rest',
        concepts.filter((c) => !c.weak),
      ),
      {
        group: 'overall',
        concepts: concepts.length,
        items: o.before.length,
        before: micro(o.before),
        after: micro(o.after),
      },
    ],
  };
}
