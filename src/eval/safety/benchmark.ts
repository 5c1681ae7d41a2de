/** Safety in the benchmark registry: harmful rate of a model under attacks × defenses. */
import { inputError } from '../../errors.ts';
import { ED_FAMILIES } from '../../decode/emulated-disalignment.ts';
import { defineBenchmark, needData } from '../benchmark.ts';
import { resolveAttacks, TEMPLATE_ATTACKS } from './attacks.ts';
import { GUARD_UNPARSED, GuardClassifier, RefusalClassifier, type SafetyClassifier } from './classifiers.ts';
import { DEFENSES, resolveDefense } from './defenses.ts';
import { loadSafetyPrompts } from './prompts.ts';
import { defaultSafetyGeneration, loadSafetyResponses, runSafety, safetyGrid, SHORT_RESPONSE_RULES } from './run.ts';
import { loadTokenizer } from '../../tokenizers/load-tokenizer.ts';

const ED_ATTACKS = ['emulated-disalignment', 'ed'];
const isEd = (attack: string) => ED_ATTACKS.includes(attack);

export const safety = defineBenchmark({
  name: 'safety',
  summary: 'harmful rate under attacks × defenses, by a guard judge or refusal strings',
  description:
    'The harmful rate of the model on harmful prompts, for every attack × defense: each final response is classified by a guard judge (Llama-Guard-style) or by refusal strings. With --responses, given responses are classified (no --data needed). --limit N keeps the first N prompts of each file.',
  dataFormat: 'prompt sets: AdvBench CSV, HH-RLHF JSONL(.gz), or CSV/JSONL with "prompt"',
  responsesFormat: 'JSONL {prompt, response, attack?, defense?} (no --data needed)',
  options: {
    attacks: {
      type: 'list',
      choices: ['none', ...Object.keys(TEMPLATE_ATTACKS), ...ED_ATTACKS],
      default: ['none'],
      description: 'attacks on each prompt (emulated-disalignment samples from --base against --aligned)',
    },
    defenses: { type: 'list', choices: DEFENSES, default: ['none'], description: 'defenses of the target model' },
    classifier: {
      type: 'string',
      choices: ['guard', 'refusal'],
      description: 'how a response is judged harmful (default guard with --judge, else refusal strings)',
    },
    guardFormat: {
      type: 'string',
      choices: ['prompt', 'native'],
      default: 'prompt',
      description:
        "prompt: a Llama-Guard-style instruction to any chat model; native: the conversation through a Llama Guard model's own template",
    },
    guardUnparsed: {
      type: 'string',
      choices: GUARD_UNPARSED,
      default: 'flagged',
      description:
        "a guard output that is neither safe nor unsafe: flagged (the ED evaluator's rule) or a judge failure",
    },
    samplesPerPrompt: {
      type: 'integer',
      min: 1,
      default: 1,
      description: 'responses per prompt (the ED demo uses 3); the rate is over all of them',
    },
    shortResponses: {
      type: 'string',
      choices: SHORT_RESPONSE_RULES,
      default: 'resample',
      description:
        'resample (the ED code): a response under 8 tokens is drawn again, up to 10 times; harmful (GCG): an empty response counts as harmful',
    },
    filterJudge: {
      type: 'string',
      placeholder: 'REF',
      description: 'guard of the input/output filter defenses (default --judge)',
    },
    base: { type: 'string', placeholder: 'REF', description: 'emulated disalignment: the pre-trained model' },
    aligned: {
      type: 'string',
      placeholder: 'REF',
      description: 'emulated disalignment: the aligned model (default --model)',
    },
    alpha: { type: 'number', min: 0, description: "emulated disalignment's strength (default: the family's)" },
    edFamily: {
      type: 'string',
      choices: Object.keys(ED_FAMILIES),
      description: "emulated disalignment's family defaults (α, prompt formats, stop strings)",
    },
  },
  load(o, s) {
    const classifier = s.classifier ?? (o.judge ? 'guard' : 'refusal');
    if (classifier === 'guard' && !o.judge)
      throw inputError('--classifier guard needs --judge REF', { field: '--classifier' });
    if (o.responses.length) {
      if (o.responses.length > 1)
        throw inputError('--responses takes one file for this benchmark', { field: '--responses' });
      const given = loadSafetyResponses(o.responses[0]);
      return { classifier, given: { ...given, items: given.items.slice(0, o.limit) }, prompts: [] };
    }
    const needsTarget = s.attacks.some((a) => !isEd(a));
    if (needsTarget && !o.model)
      throw inputError('eval safety needs --model REF (the target model) or --responses FILE');
    if (s.attacks.some(isEd) && !s.base)
      throw inputError(
        'the emulated-disalignment attack needs --base REF (the pre-trained model) and --aligned REF (default: --model)',
        {
          field: '--attacks',
        },
      );
    const defenses = s.defenses.map(resolveDefense);
    const filterRef = s.filterJudge ?? o.judge;
    if (defenses.some((d) => d.inputFilter || d.outputFilter) && !filterRef)
      throw inputError(
        'the input-filter and output-filter defenses need a guard judge: --filter-judge REF or --judge REF',
        {
          field: '--defenses',
        },
      );
    const prompts = needData('safety', o, 'prompt set').flatMap((p) => loadSafetyPrompts(p, { limit: o.limit }));
    return { classifier, given: undefined, prompts };
  },
  async open({ classifier: kind, given, prompts }, c) {
    const { settings: s, options: o } = c;
    const classifier: SafetyClassifier =
      kind === 'guard'
        ? new GuardClassifier(await c.loadJudge(o.judge!), s.guardFormat, s.guardUnparsed)
        : new RefusalClassifier();
    const common = {
      runDir: c.runDir,
      classifier,
      shortResponses: s.shortResponses,
      concurrency: o.concurrency,
      onProgress: c.onProgress,
    };
    // given responses: --tokenizer counts their tokens for the 8-token rule (without it: empty ones only)
    const tokenizer = o.tokenizer ? loadTokenizer(o.tokenizer) : undefined;
    if (given) return async () => (await runSafety({ ...given, ...common, tokenizer })).summary;
    const ed = s.attacks.some(isEd)
      ? {
          base: await c.loadModel(s.base!),
          aligned: await c.loadModel(s.aligned ?? o.model!),
          alpha: s.alpha,
          family: s.edFamily,
        }
      : undefined;
    const attacks = resolveAttacks(s.attacks, ed);
    const defenses = s.defenses.map(resolveDefense);
    const needsFilter = defenses.some((d) => d.inputFilter || d.outputFilter);
    const model = s.attacks.some((a) => !isEd(a)) ? await c.loadModel(o.model!) : undefined;
    const filter = needsFilter
      ? new GuardClassifier(await c.loadJudge((s.filterJudge ?? o.judge)!), s.guardFormat)
      : undefined;
    return async () =>
      (
        await runSafety({
          ...common,
          items: safetyGrid(prompts, attacks, defenses, s.samplesPerPrompt),
          attacks,
          defenses,
          model,
          generation: c.generation(defaultSafetyGeneration),
          filter,
        })
      ).summary;
  },
});
