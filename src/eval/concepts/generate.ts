/**
 * New practice problems for a concept from a teacher model: a few-shot prompt shows problems of
 * the concept (questions and answers) and one worked example in the output format; the teacher
 * writes a new problem with a step-by-step solution. Output that does not parse, has no numeric
 * answer, never reaches its answer, or copies an example is dropped and counted by reason.
 */
import type { LanguageModel } from '../../lm/language-model.ts';
import type { ChatMessage } from '../../tokenizers/tokenizer.ts';
import { appendJsonl, readJsonlForResume } from '../../util/jsonl.ts';
import { createRng } from '../../util/random.ts';
import { itemSeed, sampleChat, type GenerationSettings } from '../chat.ts';
import { runPool } from '../concurrency.ts';
import { extractCandidates, isClose, normalizeNumbers, valueOf } from '../conceptmath/extract.ts';
import { isChinese } from '../conceptmath/data.ts';
import { POOLED, type ConceptUnit } from './concept-units.ts';
import { comparisonText, DuplicateIndex } from './near-duplicates.ts';

export interface ConceptExample {
  question: string;
  answer: string;
}

export interface WorkedExample extends ConceptExample {
  solution: string;
}

export interface GenerationTask {
  unit: ConceptUnit;
  /** problems of the concept shown to the teacher (never evaluation items) */
  examples: readonly ConceptExample[];
  /** a worked problem showing the output format (e.g. one retrieved for the concept) */
  demo?: WorkedExample;
}

export interface GenerationRecord {
  /** `<unit id>#<attempt>` */
  key: string;
  concept: string;
  ok: boolean;
  question?: string;
  solution?: string;
  answer?: string;
  /** why the output was dropped */
  reason?: string;
  output: string;
}

export interface GeneratedProblem extends WorkedExample {
  key: string;
  concept: string;
}

export interface GenerationOutcome {
  problems: GeneratedProblem[];
  /** dropped outputs by reason (malformed, copied, repeated) */
  dropped: Record<string, number>;
  records: GenerationRecord[];
}

export interface GenerateOptions {
  teacher: LanguageModel;
  tasks: readonly GenerationTask[];
  /** teacher calls per concept */
  perConcept: number;
  /** examples shown per call (a different seeded choice each call) */
  shots: number;
  generation: GenerationSettings;
  concurrency: number;
  seed: number;
  /** JSONL where each record is appended as it finishes; finished keys are not asked again */
  recordsPath?: string;
  onProgress?: (p: { done: number; total: number; dropped: number }) => void;
}

export const defaultTeacherGeneration: GenerationSettings = { maxNewTokens: 512, temperature: 0.8, topP: 0.95 };

const LABELS = {
  en: { problem: 'Problem', solution: 'Solution', answer: 'Answer' },
  zh: { problem: '题目', solution: '解答', answer: '答案' },
};

const BUILTIN_DEMO: Record<'en' | 'zh', WorkedExample> = {
  en: {
    question: 'A box holds 6 rows of 4 apples. 5 apples are eaten. How many apples are left?',
    solution: 'The box holds 6 × 4 = 24 apples. After 5 are eaten, 24 − 5 = 19 are left.',
    answer: '19',
  },
  zh: {
    question: '一个盒子里有6排苹果，每排4个，吃掉了5个，还剩多少个？',
    solution: '盒子里有6×4=24个苹果，吃掉5个后还剩24−5=19个。',
    answer: '19',
  },
};

/** The concept as words: its path without the pooled placeholders. */
export const conceptTitle = (unit: Pick<ConceptUnit, 'path'>) => unit.path.filter((p) => p !== POOLED).join(' / ');

const languageOf = (task: GenerationTask): 'en' | 'zh' =>
  isChinese({ grade: task.unit.grade, question: task.examples[0]?.question ?? '' }) ? 'zh' : 'en';

export function generationMessages(task: GenerationTask, shown: readonly ConceptExample[]): ChatMessage[] {
  const lang = languageOf(task);
  const l = LABELS[lang];
  const demo = task.demo ?? BUILTIN_DEMO[lang];
  const list = shown
    .map((e, i) => `${i + 1}. ${e.question} (${lang === 'zh' ? '答案' : 'answer'}: ${e.answer})`)
    .join('\n');
  const format = `${l.problem}: <…>\n${l.solution}: <…>\n${l.answer}: <…>`;
  const example = `${l.problem}: ${demo.question}\n${l.solution}: ${demo.solution}\n${l.answer}: ${demo.answer}`;
  const content =
    lang === 'zh'
      ? `请为知识点“${conceptTitle(task.unit)}”编写练习题。\n\n这个知识点的题目示例：\n${list}\n\n请写一道与上面不同的新题目，并逐步解答。严格按照以下格式回答（答案只写一个数）：\n${format}\n\n格式示例：\n${example}`
      : `Write a practice problem for the math concept "${conceptTitle(task.unit)}".\n\nProblems on this concept:\n${list}\n\nWrite one new problem on the same concept, different from the ones above, and solve it step by step. Reply in exactly this format (the answer is a single number):\n${format}\n\nExample of the format:\n${example}`;
  return [{ role: 'user', content }];
}

// "Problem: … Solution: … Answer: …" (or 题目/解答/答案), tolerating markdown bold and headings around the labels
const label = (names: string) => `(?:^|\\n)\\s*[*#]*\\s*(?:${names})\\s*[*]*\\s*[:：]\\s*[*]*\\s*`;
const SECTION_RE = new RegExp(
  `${label('problem|question|题目|问题')}([\\s\\S]*?)${label('solution|解答|解')}([\\s\\S]*?)${label('(?:final\\s+)?answer|答案')}([^\\n]*)`,
  'i',
);

/** Parses a teacher's reply, or says why it is unusable. */
export function parseGeneratedProblem(output: string): { problem: WorkedExample } | { reason: string } {
  const m = SECTION_RE.exec(output);
  if (!m) return { reason: 'no Problem/Solution/Answer sections' };
  const question = m[1].trim();
  const solution = m[2].trim();
  const answerText = m[3].trim().replace(/[。.]+$/, '');
  if (question.length < 10) return { reason: 'empty or too short problem' };
  if (!solution) return { reason: 'empty solution' };
  const candidates = extractCandidates(normalizeNumbers(answerText));
  const value = candidates.length === 1 ? valueOf(candidates[0]) : undefined;
  if (value === undefined) return { reason: 'answer is not a single number' };
  const inSolution = extractCandidates(normalizeNumbers(solution)).map(valueOf);
  if (!inSolution.some((v) => v !== undefined && isClose(value, v)))
    return { reason: 'the solution never reaches the answer' };
  return { problem: { question, solution, answer: candidates[0].trim() } };
}

/** Runs the teacher for every concept and keeps the well-formed, new problems. */
export async function generateProblems(o: GenerateOptions): Promise<GenerationOutcome> {
  const finished = new Map<string, GenerationRecord>();
  if (o.recordsPath) for (const r of readJsonlForResume<GenerationRecord>(o.recordsPath)) finished.set(r.key, r);
  const jobs = o.tasks.flatMap((task) =>
    Array.from({ length: task.examples.length ? o.perConcept : 0 }, (_, i) => ({ task, key: `${task.unit.id}#${i}` })),
  );
  const pending = jobs.filter((j) => !finished.has(j.key));
  const total = jobs.length;
  let done = total - pending.length;
  const failed = () => [...finished.values()].filter((r) => !r.ok).length;
  o.onProgress?.({ done, total, dropped: failed() });
  const copies = new Map(
    o.tasks.map((t) => [
      t.unit.id,
      new DuplicateIndex(t.examples.map((e, i) => ({ key: String(i), text: e.question }))),
    ]),
  );

  await runPool(pending, o.concurrency, async ({ task, key }) => {
    const rng = createRng(itemSeed(o.seed, key) ?? 0);
    const shown = rng.shuffle([...task.examples]).slice(0, o.shots);
    const output = await sampleChat(o.teacher, generationMessages(task, shown), o.generation, itemSeed(o.seed, key));
    const parsed = parseGeneratedProblem(output);
    let record: GenerationRecord;
    if ('reason' in parsed) record = { key, concept: task.unit.id, ok: false, reason: parsed.reason, output };
    else if (copies.get(task.unit.id)!.match(parsed.problem.question))
      record = { key, concept: task.unit.id, ok: false, reason: 'copies an example', output };
    else record = { key, concept: task.unit.id, ok: true, ...parsed.problem, output };
    finished.set(key, record);
    if (o.recordsPath) appendJsonl(o.recordsPath, record);
    done++;
    o.onProgress?.({ done, total, dropped: failed() });
  });

  const records = jobs.map((j) => finished.get(j.key)!);
  const dropped: Record<string, number> = {};
  const problems: GeneratedProblem[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    if (r.ok) {
      const text = comparisonText(r.question!);
      if (!seen.has(text)) {
        seen.add(text);
        problems.push({
          key: r.key,
          concept: r.concept,
          question: r.question!,
          solution: r.solution!,
          answer: r.answer!,
        });
        continue;
      }
    }
    const reason = r.ok ? 'repeats an earlier generated problem' : r.reason!;
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  }
  return { problems, dropped, records };
}
