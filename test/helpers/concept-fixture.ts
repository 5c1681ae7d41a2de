/**
 * SYNTHETIC concept-labelled benchmark for the improve/concepts tests. ConceptMath itself is not
 * redistributable, so this builds a stand-in in ConceptMath's record format from GSM8K test
 * questions (MIT, data/gsm8k), with concept labels assigned by the keyword rules below
 * (first match wins), plus a few hand-written Chinese items. The labels are ours, not GSM8K's
 * and not ConceptMath's; they exist only to exercise the pipeline.
 *
 * Run directly to write the files an end-to-end `alignkit improve` run uses:
 *   node --import tsx test/helpers/concept-fixture.ts OUT_DIR
 * → OUT_DIR/benchmark.jsonl (concept-labelled, ConceptMath format) and OUT_DIR/pool.jsonl
 *   (the other GSM8K questions with their worked solutions).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const GSM8K_TEST = join(import.meta.dirname, '..', '..', 'data', 'gsm8k', 'test.jsonl');

export interface GsmRecord {
  question: string;
  answer: string;
}
export interface FixtureItem {
  idx: number;
  cate0: string;
  cate1: string;
  cate2: string;
  question: string;
  answer: string;
  grade: string;
}

/** Keyword rules, in priority order: [cate0/cate1/cate2, pattern]. */
export const KEYWORD_RULES: [string, RegExp][] = [
  ['Expressions/Age problems/Ages', /years old|\bages?\b|older than|younger than/i],
  ['statistics/Averages/Mean', /\baverage\b|\bmean\b/i],
  ['Calculate/Percents/Percent of a number', /percent|%/i],
  [
    'Calculate/Fractions/Fractions of a quantity',
    /\bhalf\b|\bthirds?\b|\bquarters?\b|\bfifths?\b|fraction|\b\d+\/\d+\b/i,
  ],
  ['Measurement/Distance/Distance and speed', /\bmiles?\b|\bkm\b|kilomet|\bmph\b|\bspeed\b/i],
  [
    'geometry/Area and perimeter/Rectangles',
    /\barea\b|perimeter|square (feet|foot|meters?|inches|yards?)|rectangle|\bwidth\b/i,
  ],
  ['Measurement/Time/Elapsed time', /\bminutes?\b|\bhours?\b|\bseconds\b/i],
  ['Calculate/Money/Prices and totals', /\$|dollars?|\bcents?\b|\bcosts?\b|\bprices?\b/i],
];
export const OTHER_CONCEPT = 'Calculate/Whole numbers/Counting';

export function keywordConcept(question: string): string {
  return KEYWORD_RULES.find(([, re]) => re.test(question))?.[0] ?? OTHER_CONCEPT;
}

export const finalAnswer = (solution: string) => solution.split('####').pop()!.trim().replace(/,/g, '');

export function readGsm8k(): GsmRecord[] {
  return readFileSync(GSM8K_TEST, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as GsmRecord);
}

/** Hand-written Chinese items (synthetic), two concepts. */
export const ZH_ITEMS: [string, string, string][] = [
  ['数与代数/百分数/百分数的应用', '一件衣服原价200元，打八折后是多少元？', '160'],
  ['数与代数/百分数/百分数的应用', '某班有40名学生，其中25%是男生，男生有多少人？', '10'],
  ['数与代数/百分数/百分数的应用', '一本书原价50元，现价降低了20%，现价是多少元？', '40'],
  ['数与代数/百分数/百分数的应用', '小明的存款是300元，年利率是3%，一年后利息是多少元？', '9'],
  ['数与代数/百分数/百分数的应用', '一个果园有梨树80棵，苹果树比梨树多25%，苹果树有多少棵？', '100'],
  ['数与代数/百分数/百分数的应用', '一台电脑售价4000元，商店打九折出售，便宜了多少元？', '400'],
  ['几何/面积/长方形的面积', '一个长方形长8厘米，宽5厘米，它的面积是多少平方厘米？', '40'],
  ['几何/面积/长方形的面积', '一块长方形菜地长12米，宽6米，面积是多少平方米？', '72'],
  ['几何/面积/长方形的面积', '一个正方形的边长是9厘米，它的面积是多少平方厘米？', '81'],
  ['几何/面积/长方形的面积', '一张长方形桌面长15分米，宽7分米，桌面的面积是多少平方分米？', '105'],
  ['几何/面积/长方形的面积', '一个长方形花坛的面积是48平方米，长是8米，宽是多少米？', '6'],
  ['几何/面积/长方形的面积', '一块正方形手帕的边长是20厘米，面积是多少平方厘米？', '400'],
];

/**
 * The benchmark: the first `size` GSM8K test questions, keyword-labelled, plus the Chinese
 * items; the pool: the rest of GSM8K test (worked solutions included).
 */
export function buildFixture(size = 400): { benchmark: FixtureItem[]; pool: GsmRecord[] } {
  const gsm = readGsm8k();
  const benchmark: FixtureItem[] = gsm.slice(0, size).map((r, i) => {
    const [cate0, cate1, cate2] = keywordConcept(r.question).split('/');
    return { idx: i, cate0, cate1, cate2, question: r.question, answer: finalAnswer(r.answer), grade: 'synthetic_en' };
  });
  ZH_ITEMS.forEach(([concept, question, answer], i) => {
    const [cate0, cate1, cate2] = concept.split('/');
    benchmark.push({ idx: i, cate0, cate1, cate2, question, answer, grade: 'synthetic_zh' });
  });
  return { benchmark, pool: gsm.slice(size) };
}

export const toJsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

export function writeFixture(dir: string, size?: number): { benchmark: string; pool: string } {
  const { benchmark, pool } = buildFixture(size);
  mkdirSync(dir, { recursive: true });
  const paths = { benchmark: join(dir, 'benchmark.jsonl'), pool: join(dir, 'pool.jsonl') };
  writeFileSync(paths.benchmark, toJsonl(benchmark));
  writeFileSync(paths.pool, toJsonl(pool));
  return paths;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node --import tsx test/helpers/concept-fixture.ts OUT_DIR [SIZE]');
    process.exit(1);
  }
  console.log(writeFixture(out, process.argv[3] ? Number(process.argv[3]) : undefined));
}
