/**
 * Finds problems of given concepts in a user's pools: every pool problem goes to the concept the
 * classifier finds most probable (so no problem serves two concepts), and each requested concept
 * keeps its most confident ones. Concepts that end up with none are reported, not filled with
 * guesses.
 */
import type { ConceptClassifier } from './concept-classifier.ts';
import type { PoolProblem } from './problem-pool.ts';

export interface RetrievedProblem extends PoolProblem {
  concept: string;
  /** the classifier's probability of the concept */
  probability: number;
}

export interface RetrievalSettings {
  /** at most this many problems per concept */
  perConcept: number;
  /** ignore problems whose probability for their concept is below this */
  minProbability: number;
}

export const defaultRetrievalSettings: RetrievalSettings = { perConcept: 100, minProbability: 0 };

export interface Retrieval {
  /** per requested concept, most probable first */
  byConcept: Map<string, RetrievedProblem[]>;
  /** requested concepts with no problem in the pools */
  empty: string[];
  /** requested concepts the classifier was not trained on */
  unknown: string[];
}

/** Labels every pool problem with its most probable concept. */
export function classifyPool(classifier: ConceptClassifier, pool: readonly PoolProblem[]): RetrievedProblem[] {
  return pool.map((p) => {
    const { label, probability } = classifier.predict(p.question, 1);
    return { ...p, concept: label, probability };
  });
}

/** Picks each requested concept's problems from a classified pool. */
export function selectForConcepts(
  assigned: readonly RetrievedProblem[],
  labels: readonly string[],
  concepts: readonly string[],
  settings: Partial<RetrievalSettings> = {},
): Retrieval {
  const s = { ...defaultRetrievalSettings, ...settings };
  const known = new Set(labels);
  const byConcept = new Map<string, RetrievedProblem[]>();
  for (const c of concepts) {
    const hits = assigned
      .filter((p) => p.concept === c && p.probability >= s.minProbability)
      .sort((a, b) => b.probability - a.probability || (a.id < b.id ? -1 : 1));
    byConcept.set(c, hits.slice(0, s.perConcept));
  }
  return {
    byConcept,
    empty: concepts.filter((c) => known.has(c) && !byConcept.get(c)!.length),
    unknown: concepts.filter((c) => !known.has(c)),
  };
}

export function retrieveProblems(
  classifier: ConceptClassifier,
  pool: readonly PoolProblem[],
  concepts: readonly string[],
  settings: Partial<RetrievalSettings> = {},
): Retrieval {
  return selectForConcepts(classifyPool(classifier, pool), classifier.labels, concepts, settings);
}
