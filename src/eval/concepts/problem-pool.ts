/**
 * Pools of worked problems a user offers as training material: GSM8K-style JSONL
 * (`{"question", "answer"}`, the answer a worked solution ending in `#### <final answer>`), or
 * records with a separate `"solution"` (worked) and `"answer"` (final).
 */
import { inputError } from '../../errors.ts';
import { fieldAt, readRecords, stringField, type LocatedRecord } from '../records-file.ts';
import { isChinese } from '../conceptmath/data.ts';

export interface PoolProblem {
  /** `<file>:<line>` (or `<file>:[i]` for a JSON array) */
  id: string;
  question: string;
  /** the worked solution, without the final-answer line */
  solution: string;
  /** the final answer */
  answer: string;
}

const FORMAT =
  'a GSM8K-style worked solution ending in "#### <final answer>", or a "solution" field beside a final "answer"';

function parseProblem(record: LocatedRecord): PoolProblem {
  const where = record.where;
  const id = `${where.file}:${where.line ?? where.field}`;
  const question = stringField(record, 'question').trim();
  if (!question) throw inputError('empty question', fieldAt(record, 'question'));
  const answerText = stringField(record, 'answer', { allowNumber: true });
  if (record.value.solution !== undefined) {
    const solution = stringField(record, 'solution').trim();
    if (!solution) throw inputError('empty solution', fieldAt(record, 'solution'));
    if (!answerText.trim()) throw inputError('empty final answer', fieldAt(record, 'answer'));
    return { id, question, solution, answer: answerText.trim() };
  }
  const marker = answerText.lastIndexOf('####');
  if (marker < 0) throw inputError(`expected ${FORMAT}`, fieldAt(record, 'answer'));
  const answer = answerText
    .slice(marker + 4)
    .trim()
    .replace(/(?<=\d),(?=\d)/g, '');
  const solution = answerText
    .slice(0, marker)
    .replace(/<<[^>]*>>/g, '')
    .trim();
  if (!answer || !solution)
    throw inputError(
      `expected ${FORMAT} (the ${answer ? 'solution' : 'final answer'} is empty)`,
      fieldAt(record, 'answer'),
    );
  return { id, question, solution, answer };
}

/** Reads a pool; a record in the wrong format names the file, line and field. */
export function loadPool(path: string): PoolProblem[] {
  const problems = readRecords(path).map(parseProblem);
  if (!problems.length) throw inputError('the pool has no problems', { file: path });
  return problems;
}

/** The worked solution as a training target, ending the way ConceptMath's answer extraction expects. */
export function solutionCompletion(problem: Pick<PoolProblem, 'question' | 'solution' | 'answer'>): string {
  return isChinese({ grade: '', question: problem.question })
    ? `${problem.solution}\n因此，答案是${problem.answer}。`
    : `${problem.solution}\nTherefore, the answer is ${problem.answer}.`;
}
