import { existsSync } from 'node:fs';
import { parseFlags, requireFlag, numberFlag, intFlag, listFlag } from './args.ts';
import { finishRun } from './run-output.ts';
import { stageProgressRenderer } from './stage-progress.ts';
import { inputError } from '../errors.ts';
import { loadModel } from '../lm/load.ts';
import { RunDir } from '../report/run-dir.ts';
import type { Plot, Summary, Table } from '../report/summary.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { ConceptMathItem } from '../eval/conceptmath/data.ts';
import { percent, round } from '../eval/summary-parts.ts';
import { readRecords, stringField } from '../eval/records-file.ts';
import { loadConceptBenchmark } from '../eval/concepts/concept-benchmark.ts';
import { ConceptClassifier, heldOutScore, type HeldOutScore } from '../eval/concepts/concept-classifier.ts';
import { conceptUnits, unitName, type ConceptUnits } from '../eval/concepts/concept-units.ts';
import { defaultTeacherGeneration, generateProblems } from '../eval/concepts/generate.ts';
import { DuplicateIndex } from '../eval/concepts/near-duplicates.ts';
import { loadPool } from '../eval/concepts/problem-pool.ts';
import { classifyPool, selectForConcepts } from '../eval/concepts/retrieve.ts';
import { cleanPool, trainingRecord, type RemovedDuplicate } from '../improve/training-mix.ts';

const USAGE = `usage: alignkit concepts classify|retrieve|generate --eval conceptmath|FILE --out DIR [flags]

The pieces of \`alignkit improve\`, each on its own. The concepts are those of a concept-labelled
benchmark (ConceptMath, with --data DIR, or your files in its format); leaf concepts with fewer
than --min-items questions are pooled under their parent. Output: OUT/results.jsonl,
OUT/summary.json, OUT/report.html.

  classify   label questions with the benchmark's concepts
             --input FILE...         JSONL with a "question" field (pools, benchmark files)
             --classifier FILE       use a saved classifier instead of training one
             --save-classifier FILE  save the trained classifier
             --holdout F             share of the labelled questions held out to score the classifier
                                     against the majority-class baseline (default 0.3; 0 = skip)
  retrieve   problems of chosen concepts from pools of worked problems
             --pool FILE...          GSM8K-style JSONL {question, answer: "...#### final"} or {question, solution, answer}
             --concept ID...         concepts to retrieve (repeatable; "all" = every concept); an ID is
                                     "<grade>:<cate0>/<cate1>/<cate2>" or the path alone when unambiguous
             --per-concept N (100)   --min-probability P (0)
             Also writes OUT/train.jsonl (prompt/completion, for alignkit train sft).
  generate   new problems with worked solutions for chosen concepts, from a teacher model
             --teacher REF  --concept ID...  --per-concept N (teacher calls, default 20)  --shots K (4)
             --pool FILE...          worked problems whose format the teacher is shown (optional)
             --teacher-temperature T (0.8)  --teacher-max-new-tokens N (512)  --concurrency N (4)  --resume
             Also writes OUT/train.jsonl; every teacher reply is kept in OUT/generated.jsonl.

common:      --data PATH  --systems LIST  --limit N  (select the benchmark, as in improve)
             --min-items N (5)  --seed S (0)
             --exclude FILE...  more questions (JSONL with "question") that outputs must not duplicate;
                                retrieve and generate always drop duplicates of the benchmark's own questions`;

const FLAGS = {
  eval: { type: 'string', multiple: true },
  data: { type: 'string', multiple: true },
  systems: { type: 'string' },
  limit: { type: 'string' },
  out: { type: 'string' },
  'min-items': { type: 'string' },
  seed: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  input: { type: 'string', multiple: true },
  classifier: { type: 'string' },
  'save-classifier': { type: 'string' },
  holdout: { type: 'string' },
  pool: { type: 'string', multiple: true },
  concept: { type: 'string', multiple: true },
  'per-concept': { type: 'string' },
  'min-probability': { type: 'string' },
  teacher: { type: 'string' },
  shots: { type: 'string' },
  'teacher-temperature': { type: 'string' },
  'teacher-max-new-tokens': { type: 'string' },
  concurrency: { type: 'string' },
  resume: { type: 'boolean' },
  'api-key-env': { type: 'string' },
  help: { type: 'boolean' },
} as const;

const SUBCOMMANDS = ['classify', 'retrieve', 'generate'] as const;

const positive = (values: Record<string, any>, flag: string, fallback?: number) => {
  const n = intFlag(values, flag, fallback);
  if (n !== undefined && n < 1)
    throw inputError(`--${flag} expects a positive integer, got "${values[flag]}"`, { field: `--${flag}` });
  return n;
};

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

interface Context {
  values: Record<string, any>;
  benchmark: ConceptMathItem[];
  units: ConceptUnits;
  runDir: RunDir;
  seed: number;
}

/** The classifier of the benchmark's concepts (trained on all its labelled questions). */
const trainClassifier = (c: Context) =>
  ConceptClassifier.train(c.benchmark.map((i) => ({ text: i.question, label: c.units.unitOf(i).id })));

/** Concept IDs from --concept: full ids, paths that name one unit, or "all". */
function resolveConcepts(c: Context): string[] {
  const asked = (c.values.concept as string[] | undefined) ?? [];
  if (!asked.length)
    throw inputError('name the concepts with --concept ID (repeatable) or --concept all', { field: '--concept' });
  if (asked.includes('all')) return c.units.units.map((u) => u.id);
  return asked.map((a) => {
    if (c.units.byId.has(a)) return a;
    const byPath = c.units.units.filter((u) => u.concept === a);
    if (byPath.length === 1) return byPath[0].id;
    const known = c.units.units
      .slice(0, 15)
      .map((u) => u.id)
      .join('; ');
    throw inputError(
      `${byPath.length ? 'ambiguous' : 'unknown'} concept "${a}" (concepts of this benchmark include: ${known}${c.units.units.length > 15 ? '; …' : ''})`,
      { field: '--concept' },
    );
  });
}

/** Questions outputs must not duplicate: the benchmark's own and --exclude files. */
function exclusionIndex(c: Context): DuplicateIndex {
  const extra = listFlag(c.values, 'exclude').flatMap((f) =>
    readRecords(f).map((r) => ({ key: `${f}:${r.where.line ?? r.where.field}`, text: stringField(r, 'question') })),
  );
  return new DuplicateIndex([...c.benchmark.map((i) => ({ key: i.key, text: i.question })), ...extra]);
}

const classifierTable = (s: HeldOutScore): Table => ({
  title: 'Concept classifier on held-out labelled questions',
  columns: ['accuracy %', 'majority baseline %', 'majority concept', 'concepts', 'train', 'held out'],
  rows: [[percent(s.accuracy, 1), percent(s.majorityAccuracy, 1), s.majorityLabel, s.labels, s.trainSize, s.testSize]],
});

const removedTable = (removed: readonly RemovedDuplicate[]): Table => ({
  title: `Duplicates of benchmark/excluded questions removed (${removed.length})`,
  columns: ['origin', 'kind', 'duplicate of', 'Jaccard', 'question'],
  rows: removed.map((r) => [r.origin, r.match.kind, r.match.key, round(r.match.jaccard, 3), r.question.slice(0, 120)]),
  note: removed.length ? undefined : 'none',
});

const countPlot = (title: string, counts: [string, number][]): Plot => ({
  type: 'bar',
  title,
  xLabel: 'concept',
  yLabel: 'problems',
  series: [{ name: 'problems', points: counts }],
});

async function classify(c: Context): Promise<Summary> {
  const holdout = numberFlag(c.values, 'holdout', 0.3);
  if (!(holdout >= 0 && holdout < 1))
    throw inputError(`--holdout expects a number in [0, 1), got "${c.values.holdout}"`, { field: '--holdout' });
  const classifier = c.values.classifier ? ConceptClassifier.load(c.values.classifier) : trainClassifier(c);
  if (c.values['save-classifier']) classifier.save(c.values['save-classifier']);
  const check =
    !c.values.classifier && holdout > 0
      ? heldOutScore(
          c.benchmark.map((i) => ({ text: i.question, label: c.units.unitOf(i).id })),
          { testFraction: holdout, seed: c.seed },
        )
      : undefined;
  const inputs = listFlag(c.values, 'input').flatMap((f) =>
    readRecords(f).map((r) => ({ id: `${f}:${r.where.line ?? r.where.field}`, question: stringField(r, 'question') })),
  );
  const rows = inputs.map((q) => ({ ...q, ...classifier.predict(q.question, 3) }));
  writeFileAtomic(
    c.runDir.path('results.jsonl'),
    jsonl(
      rows.map((r) => ({
        id: r.id,
        question: r.question,
        concept: r.label,
        probability: round(r.probability, 4),
        top: r.top.map((t) => ({ concept: t.label, probability: round(t.probability, 4) })),
      })),
    ),
  );
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return {
    kind: 'concepts classify',
    title: `Concept classification (${classifier.labels.length} concepts)`,
    metrics: {
      inputs: rows.length,
      concepts: classifier.labels.length,
      ...(check
        ? { heldout_accuracy: percent(check.accuracy, 1), majority_baseline: percent(check.majorityAccuracy, 1) }
        : {}),
    },
    tables: [
      ...(check ? [classifierTable(check)] : []),
      {
        title: 'Inputs per predicted concept',
        columns: ['concept', 'inputs'],
        rows: byCount.map(([id, n]) => [unitName(c.units.byId.get(id) ?? { grade: '', concept: id }), n]),
      },
    ],
    plots: rows.length ? [countPlot('Inputs per predicted concept', byCount)] : [],
  };
}

async function retrieve(c: Context): Promise<Summary> {
  const concepts = resolveConcepts(c);
  const pools = listFlag(c.values, 'pool');
  if (!pools.length) throw inputError('concepts retrieve needs --pool FILE (worked problems)', { field: '--pool' });
  const pool = pools.flatMap((p) => loadPool(p));
  const classifier = trainClassifier(c);
  const { clean, removed } = cleanPool(classifyPool(classifier, pool), exclusionIndex(c));
  const retrieval = selectForConcepts(clean, classifier.labels, concepts, {
    perConcept: positive(c.values, 'per-concept', 100),
    minProbability: numberFlag(c.values, 'min-probability', 0),
  });
  const found = concepts.flatMap((id) => retrieval.byConcept.get(id) ?? []);
  writeFileAtomic(
    c.runDir.path('results.jsonl'),
    jsonl(
      found.map((p) => ({
        concept: p.concept,
        id: p.id,
        question: p.question,
        solution: p.solution,
        answer: p.answer,
        probability: round(p.probability, 4),
      })),
    ),
  );
  writeFileAtomic(
    c.runDir.path('train.jsonl'),
    jsonl(found.map((p) => trainingRecord(p, 'retrieved', p.id, p.concept))),
  );
  const perConcept: [string, number][] = concepts.map((id) => [id, retrieval.byConcept.get(id)?.length ?? 0]);
  return {
    kind: 'concepts retrieve',
    title: `Retrieval for ${concepts.length} concept${concepts.length === 1 ? '' : 's'} from ${pool.length} pool problems`,
    metrics: {
      retrieved: found.length,
      concepts: concepts.length,
      concepts_without_problems: retrieval.empty.length,
      duplicates_removed: removed.length,
    },
    tables: [
      {
        title: 'Retrieved per concept',
        columns: ['concept', 'problems', 'mean probability'],
        rows: concepts.map((id) => {
          const got = retrieval.byConcept.get(id) ?? [];
          return [
            unitName(c.units.byId.get(id)!),
            got.length,
            got.length ? round(got.reduce((a, p) => a + p.probability, 0) / got.length, 3) : null,
          ];
        }),
        note: retrieval.empty.length
          ? `No pool problem is classified as: ${retrieval.empty.join('; ')} (skipped).`
          : undefined,
      },
      removedTable(removed),
    ],
    plots: [countPlot('Retrieved problems per concept', perConcept)],
  };
}

async function generate(c: Context): Promise<Summary> {
  const concepts = resolveConcepts(c);
  const teacherRef = requireFlag(c.values, 'teacher');
  const concurrency = positive(c.values, 'concurrency', 4)!;
  const pool = listFlag(c.values, 'pool').flatMap((p) => loadPool(p));
  const assigned = pool.length ? classifyPool(trainClassifier(c), pool) : [];
  const demoOf = (id: string) => assigned.find((p) => p.concept === id) ?? pool[0];
  const teacher = await loadModel(teacherRef, { apiKeyEnv: c.values['api-key-env'], concurrency });
  const progress = stageProgressRenderer('concepts');
  let outcome;
  try {
    outcome = await generateProblems({
      teacher,
      tasks: concepts.map((id) => {
        const demo = demoOf(id);
        return {
          unit: c.units.byId.get(id)!,
          examples: c.benchmark
            .filter((i) => c.units.unitOf(i).id === id)
            .map((i) => ({ question: i.question, answer: i.answer })),
          demo: demo && { question: demo.question, solution: demo.solution, answer: demo.answer },
        };
      }),
      perConcept: positive(c.values, 'per-concept', 20)!,
      shots: positive(c.values, 'shots', 4)!,
      generation: {
        ...defaultTeacherGeneration,
        temperature: numberFlag(c.values, 'teacher-temperature', defaultTeacherGeneration.temperature),
        maxNewTokens: positive(c.values, 'teacher-max-new-tokens', defaultTeacherGeneration.maxNewTokens)!,
        seed: c.seed,
      },
      concurrency,
      seed: c.seed,
      recordsPath: c.runDir.path('generated.jsonl'),
      onProgress: (p) =>
        progress.update({ stage: 'generate', done: p.done, total: p.total, note: `dropped ${p.dropped}` }),
    });
  } finally {
    progress.stop();
    await teacher.dispose();
  }
  const index = exclusionIndex(c);
  const kept = outcome.problems.filter((p) => !index.match(p.question));
  const removed: RemovedDuplicate[] = outcome.problems
    .filter((p) => !kept.includes(p))
    .map((p) => ({ source: 'generated', origin: p.key, question: p.question, match: index.match(p.question)! }));
  writeFileAtomic(c.runDir.path('results.jsonl'), jsonl(kept));
  writeFileAtomic(
    c.runDir.path('train.jsonl'),
    jsonl(kept.map((p) => trainingRecord(p, 'generated', p.key, p.concept))),
  );
  const byConcept = (id: string, ok: boolean) => outcome.records.filter((r) => r.concept === id && r.ok === ok).length;
  return {
    kind: 'concepts generate',
    title: `Generated problems from ${teacherRef}`,
    metrics: {
      kept: kept.length,
      calls: outcome.records.length,
      dropped: outcome.records.length - kept.length,
      duplicates_removed: removed.length,
      teacher: teacherRef,
    },
    tables: [
      {
        title: 'Per concept',
        columns: ['concept', 'calls', 'well-formed', 'kept'],
        rows: concepts.map((id) => [
          unitName(c.units.byId.get(id)!),
          byConcept(id, true) + byConcept(id, false),
          byConcept(id, true),
          kept.filter((p) => p.concept === id).length,
        ]),
        note: 'well-formed but not kept: a repeat of an earlier problem or a duplicate of a benchmark question',
      },
      {
        title: 'Dropped teacher output',
        columns: ['reason', 'count'],
        rows: Object.entries(outcome.dropped),
        note: Object.keys(outcome.dropped).length ? undefined : 'none',
      },
      removedTable(removed),
    ],
    plots: [
      countPlot(
        'Kept problems per concept',
        concepts.map((id) => [id, kept.filter((p) => p.concept === id).length]),
      ),
    ],
  };
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return sub ? 0 : 1;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub))
    throw inputError(`unknown subcommand "${sub}" (expected one of: ${SUBCOMMANDS.join(', ')})\n${USAGE}`);
  const { values } = parseFlags(rest, FLAGS as any);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const out = requireFlag(values, 'out');
  const resume = sub === 'generate' && !!values.resume;
  const runDir = RunDir.create(out, { resume });
  if (sub === 'generate' && !resume && existsSync(runDir.path('generated.jsonl')))
    throw inputError(`${out} already holds a generate run; pass --resume to continue it or choose another --out`, {
      field: '--out',
    });
  const benchmark = loadConceptBenchmark({
    eval: listFlag(values, 'eval'),
    data: listFlag(values, 'data'),
    systems: listFlag(values, 'systems'),
    limit: positive(values, 'limit'),
  });
  const context: Context = {
    values,
    benchmark,
    units: conceptUnits(benchmark, benchmark, positive(values, 'min-items', 5)!),
    runDir,
    seed: intFlag(values, 'seed', 0),
  };
  runDir.writeConfig({
    command: `concepts ${sub}`,
    flags: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
    items: benchmark.length,
  });
  const summary = await (sub === 'classify' ? classify : sub === 'retrieve' ? retrieve : generate)(context);
  finishRun(runDir, summary);
  return 0;
}
