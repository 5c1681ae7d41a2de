/**
 * SYNTHETIC toy benchmark for demonstrating `alignkit improve` on a model small enough to train
 * here: one-digit word problems in four concepts (addition, subtraction, multiplication,
 * comparison), written from templates with varied names and objects, in ConceptMath's record
 * format, plus pools of worked problems (GSM8K format). Nothing here comes from a real benchmark.
 *
 *   node --import tsx test/helpers/toy-arithmetic.ts OUT_DIR
 * → OUT_DIR/benchmark.jsonl   60 labelled questions per concept
 *   OUT_DIR/pool.jsonl        400 worked problems per concept
 *   OUT_DIR/general.jsonl     the addition, subtraction and comparison problems of the pool
 *                             (SFT data that makes a "base" model which has never seen multiplication)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, type Rng } from '../../src/util/random.ts';

const NAMES = ['Lily', 'Tom', 'Mia', 'Ben', 'Sara', 'Max', 'Anna', 'Leo', 'Zoe', 'Sam', 'Ella', 'Jack'];
const OBJECTS = ['apple', 'pencil', 'marble', 'sticker', 'cookie', 'book', 'shell', 'card', 'ball', 'flower'];

interface Concept {
  path: [string, string, string];
  templates: ((n: string, o: string, a: number, b: number) => string)[];
  valid: (a: number, b: number) => boolean;
  answer: (a: number, b: number) => number;
  solution: (a: number, b: number) => string;
}

export const TOY_CONCEPTS: Record<string, Concept> = {
  add: {
    path: ['Calculate', 'Addition', 'Add one-digit numbers'],
    templates: [
      (n, o, a, b) => `${n} has ${a} ${o}s and gets ${b} more. How many ${o}s does ${n} have now?`,
      (n, o, a, b) => `There are ${a} ${o}s in a box and ${b} ${o}s on the table. How many ${o}s are there in all?`,
      (_n, _o, a, b) => `What is ${a} plus ${b}?`,
      (n, o, a, b) =>
        `${n} found ${a} ${o}s on Monday and ${b} ${o}s on Tuesday. How many ${o}s did ${n} find altogether?`,
    ],
    valid: () => true,
    answer: (a, b) => a + b,
    solution: (a, b) => `${a} + ${b} = ${a + b}.`,
  },
  sub: {
    path: ['Calculate', 'Subtraction', 'Subtract one-digit numbers'],
    templates: [
      (n, o, a, b) => `${n} has ${a} ${o}s and gives away ${b}. How many ${o}s are left?`,
      (_n, _o, a, b) => `What is ${a} minus ${b}?`,
      (n, o, a, b) => `There were ${a} ${o}s on the shelf. ${n} took ${b} of them. How many ${o}s remain on the shelf?`,
      (n, o, a, b) => `${n} had ${a} ${o}s but lost ${b}. How many ${o}s does ${n} still have?`,
    ],
    valid: (a, b) => a > b,
    answer: (a, b) => a - b,
    solution: (a, b) => `${a} - ${b} = ${a - b}.`,
  },
  mul: {
    path: ['Calculate', 'Multiplication', 'Multiply one-digit numbers'],
    templates: [
      (n, o, a, b) => `${n} has ${a} bags with ${b} ${o}s in each bag. How many ${o}s does ${n} have?`,
      (_n, _o, a, b) => `What is ${a} times ${b}?`,
      (_n, o, a, b) => `A tray has ${a} rows of ${b} ${o}s. How many ${o}s are on the tray?`,
      (n, o, a, b) => `${n} buys ${a} packs of ${o}s. Each pack holds ${b} ${o}s. How many ${o}s did ${n} buy?`,
    ],
    valid: () => true,
    answer: (a, b) => a * b,
    solution: (a, b) => `${a} * ${b} = ${a * b}.`,
  },
  compare: {
    path: ['Numbers', 'Comparison', 'Compare one-digit numbers'],
    templates: [
      (_n, _o, a, b) => `Which number is larger, ${a} or ${b}?`,
      (n, o, a, b) => `${n} has ${a} ${o}s and a friend has ${b} ${o}s. What is the larger of the two amounts?`,
      (_n, _o, a, b) => `What is the bigger number: ${a} or ${b}?`,
    ],
    valid: (a, b) => a !== b,
    answer: (a, b) => Math.max(a, b),
    solution: (a, b) => `${Math.max(a, b)} is larger than ${Math.min(a, b)}.`,
  },
};

function problem(rng: Rng, c: Concept) {
  for (;;) {
    const a = 2 + rng.int(8),
      b = 2 + rng.int(8);
    if (!c.valid(a, b)) continue;
    const question = c.templates[rng.int(c.templates.length)](
      NAMES[rng.int(NAMES.length)],
      OBJECTS[rng.int(OBJECTS.length)],
      a,
      b,
    );
    return { question, answer: c.answer(a, b), solution: c.solution(a, b) };
  }
}

export function buildToy(seed = 0, perConcept = { benchmark: 60, pool: 400 }) {
  const rng = createRng(seed);
  const benchmark: object[] = [];
  const pool: { question: string; answer: string; concept: string }[] = [];
  for (const [name, c] of Object.entries(TOY_CONCEPTS)) {
    for (let i = 0; i < perConcept.benchmark; i++) {
      const p = problem(rng, c);
      benchmark.push({
        idx: benchmark.length,
        cate0: c.path[0],
        cate1: c.path[1],
        cate2: c.path[2],
        question: p.question,
        answer: String(p.answer),
        grade: 'toy_en',
      });
    }
    for (let i = 0; i < perConcept.pool; i++) {
      const p = problem(rng, c);
      pool.push({ question: p.question, answer: `${p.solution}\n#### ${p.answer}`, concept: name });
    }
  }
  return { benchmark, pool };
}

const toJsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node --import tsx test/helpers/toy-arithmetic.ts OUT_DIR');
    process.exit(1);
  }
  const { benchmark, pool } = buildToy();
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'benchmark.jsonl'), toJsonl(benchmark));
  writeFileSync(join(out, 'pool.jsonl'), toJsonl(pool.map(({ question, answer }) => ({ question, answer }))));
  writeFileSync(
    join(out, 'general.jsonl'),
    toJsonl(
      pool
        .filter((p) => p.concept !== 'mul')
        .map(({ question, answer }) => ({
          prompt: [{ role: 'user', content: question }],
          completion: [
            { role: 'assistant', content: answer.replace(/\n#### (\d+)$/, '\nTherefore, the answer is $1.') },
          ],
        })),
    ),
  );
  console.log(`wrote ${benchmark.length} benchmark items and ${pool.length} pool problems to ${out}`);
}
