import type { LanguageModel } from '../../lm/language-model.ts';
import type { RunDir } from '../../run/run-dir.ts';
import type { Plot, Summary, Table } from '../../run/summary.ts';
import { itemSeed, sampleChat, type GenerationSettings } from '../chat.ts';
import { runStaged, type GenerationFailure, type ProgressCallback, type ResponseRecord } from '../staged-run.ts';
import { generationFailuresTable, percent } from '../summary-parts.ts';
import { systemName, type ConceptMathItem } from './data.ts';
import { matchAnswer } from './extract.ts';
import { conceptMathMessages, type PromptStyle } from './prompts.ts';
import { conceptAccuracy, setAccuracy, weakestConcepts, type ConceptAccuracy, type ConceptOutcome } from './score.ts';
import { finiteOrNull, percentOrNull } from '../../util/finite.ts';

export interface ConceptMathRunOptions {
  items: readonly ConceptMathItem[];
  runDir: RunDir;
  model?: LanguageModel;
  generation?: GenerationSettings;
  promptStyle?: PromptStyle;
  /** outputs given by the user, by item key */
  responses?: ReadonlyMap<string, ResponseRecord>;
  concurrency: number;
  /** how many weakest leaf concepts to list per system */
  weakest?: number;
  onProgress?: ProgressCallback;
}

export interface ConceptMathResult extends ConceptOutcome {
  idx: number;
  answer: string;
  candidates: string[];
}

export interface ConceptMathRun {
  summary: Summary;
  outcomes: ConceptMathResult[];
  concepts: ConceptAccuracy[];
}

export const defaultConceptMathGeneration: GenerationSettings = { maxNewTokens: 512, temperature: 0 };

/** Generates answers (or takes the given ones) and scores them with the rule-based matcher. */
export async function runConceptMath(options: ConceptMathRunOptions): Promise<ConceptMathRun> {
  const { model } = options;
  const generation = options.generation ?? defaultConceptMathGeneration;
  const style = options.promptStyle ?? 'zs';
  const { results, missing, failed } = await runStaged<ConceptMathItem, ConceptMathResult>({
    runDir: options.runDir,
    items: options.items,
    keyOf: (i) => i.key,
    given: options.responses,
    generate:
      model && !options.responses
        ? async (i) => ({
            key: i.key,
            grade: i.grade,
            idx: i.idx,
            response: await sampleChat(
              model,
              conceptMathMessages(i, style),
              generation,
              itemSeed(generation.seed, i.key),
            ),
          })
        : undefined,
    score: async (i, r) => {
      const m = matchAnswer(i.answer, r.response);
      return {
        grade: i.grade,
        idx: i.idx,
        cate0: i.cate0,
        cate1: i.cate1,
        cate2: i.cate2,
        answer: i.answer,
        correct: m.correct,
        candidates: m.candidates,
      };
    },
    concurrency: options.concurrency,
    onProgress: options.onProgress,
  });
  const concepts = conceptAccuracy(results);
  const summary = conceptMathSummary(results, concepts, {
    model: model?.id,
    style,
    weakest: options.weakest ?? 10,
    missing: missing.length,
    failed,
  });
  return { summary, outcomes: results, concepts };
}

function conceptMathSummary(
  outcomes: ConceptMathResult[],
  concepts: ConceptAccuracy[],
  o: { model?: string; style: PromptStyle; weakest: number; missing: number; failed: readonly GenerationFailure[] },
): Summary {
  const sets = setAccuracy(outcomes);
  const right = outcomes.filter((x) => x.correct).length;
  const meanOfSets = sets.length ? sets.reduce((a, s) => a + (s.accuracy ?? 0), 0) / sets.length : null;
  const tables: Table[] = [
    {
      title: 'Accuracy per system',
      columns: ['system', 'items', 'correct', 'accuracy %'],
      rows: sets.map((s) => [systemName(s.grade), s.count, s.right, percent(s.accuracy, 2)]),
      note: `prompt setting ${o.style.toUpperCase()}; rule-based numeric matching (5 % tolerance below 20, ±1 from 20)`,
    },
    ...sets.map((s): Table => ({
      title: `Weakest concepts — ${systemName(s.grade)}`,
      columns: ['concept', 'items', 'accuracy %'],
      rows: weakestConcepts(concepts, { grade: s.grade, level: 2, n: o.weakest }).map((c) => [
        c.concept,
        c.count,
        percent(c.accuracy, 1),
      ]),
    })),
    {
      title: 'Concept accuracy (all three levels)',
      columns: ['system', 'level', 'concept', 'items', 'correct', 'accuracy %'],
      rows: concepts.map((c) => [systemName(c.grade), c.level, c.concept, c.count, c.right, percent(c.accuracy, 1)]),
    },
    ...(o.failed.length ? [generationFailuresTable(o.failed)] : []),
  ];
  const plots: Plot[] = sets.map((s) => ({
    type: 'bar',
    title: `Concept accuracy — ${systemName(s.grade)} (leaf concepts, ascending)`,
    xLabel: 'concept',
    yLabel: 'accuracy %',
    series: [
      {
        name: o.model ?? 'model',
        points: weakestConcepts(concepts, { grade: s.grade, level: 2, n: Infinity }).map((c) => [
          c.concept.split('/').pop()!,
          percent(c.accuracy, 1)!,
        ]),
      },
    ],
  }));
  return {
    kind: 'eval conceptmath',
    title: `ConceptMath${o.model ? ` — ${o.model}` : ''} (${o.style.toUpperCase()})`,
    metrics: {
      accuracy: percentOrNull(outcomes.length ? right / outcomes.length : null),
      mean_of_systems: percentOrNull(meanOfSets),
      items: outcomes.length,
      missing_responses: o.missing,
      generation_failures: o.failed.length,
      ...Object.fromEntries(sets.map((s) => [systemName(s.grade), percentOrNull(s.accuracy)])),
      ...(o.model ? { model: o.model } : {}),
    },
    tables,
    plots,
    concepts: concepts.map((c) => ({ ...c, accuracy: finiteOrNull(c.accuracy) })),
  };
}
