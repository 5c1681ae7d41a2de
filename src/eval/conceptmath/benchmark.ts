/** ConceptMath in the benchmark registry: concept-wise math accuracy, answers matched by rule. */
import { defineBenchmark, needData, needModelOrResponses } from '../benchmark.ts';
import { loadConceptMath, loadConceptMathResponses, type ConceptMathItem } from './data.ts';
import { PROMPT_STYLES } from './prompts.ts';
import { defaultConceptMathGeneration, runConceptMath } from './run.ts';

/** The first `limit` items of each system (grade). */
function firstPerSystem(items: ConceptMathItem[], limit: number | undefined): ConceptMathItem[] {
  if (!limit) return items;
  const seen = new Map<string, number>();
  return items.filter((i) => {
    const n = (seen.get(i.grade) ?? 0) + 1;
    seen.set(i.grade, n);
    return n <= limit;
  });
}

export const conceptMath = defineBenchmark({
  name: 'conceptmath',
  summary: 'concept-wise math accuracy (English and Chinese), answers matched by rule',
  description:
    'ConceptMath: accuracy per system and per leaf concept, answers extracted and matched by rule (no judge). With --responses, the dataset records plus "response" are scored: with --data, each must answer an item of that benchmark (unanswered items count as missing); without, the file is the benchmark. --limit N keeps the first N items of each system.',
  dataFormat: 'ConceptMath files ({idx, cate0, cate1, cate2, question, answer, grade})',
  responsesFormat: 'the dataset records plus "response" (checked against --data when given)',
  options: {
    prompt: {
      type: 'string',
      choices: PROMPT_STYLES,
      default: 'zs',
      description: 'zero-shot, zero-shot chain of thought, or few-shot prompts',
    },
    weakest: {
      type: 'integer',
      min: 1,
      default: 10,
      description: 'weakest leaf concepts listed in the summary',
      identity: false,
    },
  },
  load(o) {
    if (o.responses.length) {
      // with --data, the responses are checked against that benchmark; without, they are it
      const benchmark = o.data.length ? loadConceptMath(o.data) : undefined;
      const { items, responses } = loadConceptMathResponses(o.responses, benchmark);
      return { items: firstPerSystem(items, o.limit), responses };
    }
    needModelOrResponses('conceptmath', o, true);
    return {
      items: firstPerSystem(loadConceptMath(needData('conceptmath', o, 'ConceptMath JSONL files')), o.limit),
      responses: undefined,
    };
  },
  async open({ items, responses }, c) {
    const model = responses ? undefined : await c.loadModel(c.options.model!);
    return async () =>
      (
        await runConceptMath({
          items,
          runDir: c.runDir,
          responses,
          concurrency: c.options.concurrency,
          onProgress: c.onProgress,
          model,
          generation: c.generation(defaultConceptMathGeneration),
          promptStyle: c.settings.prompt,
          weakest: c.settings.weakest,
        })
      ).summary;
  },
});
