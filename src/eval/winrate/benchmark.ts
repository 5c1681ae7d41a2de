/** Length-controlled win rate in the benchmark registry: the model's outputs against a baseline's, judged pairwise. */
import { inputError } from '../../errors.ts';
import { defineBenchmark, needData, needModelOrResponses } from '../benchmark.ts';
import { loadBaselineOutputs, loadModelOutputs } from './data.ts';
import { loadLcExtras } from './lc-inputs.ts';
import { LC_FITS } from './length-controlled.ts';
import { loadPreferences } from './preferences.ts';
import { defaultWinrateGeneration, runWinrate, winrateFromPreferences } from './run.ts';

export const winrate = defineBenchmark({
  name: 'winrate',
  summary: "AlpacaEval-style length-controlled win rate against a baseline's outputs",
  description:
    "Win rate of the model's outputs against a baseline's on the same instructions, judged pairwise, and the length-controlled rate (AlpacaEval 2.0's official fit by default). With --preferences, the win rates of comparisons judged elsewhere (no model, no judge). --limit N keeps the first N instructions.",
  dataFormat: "the baseline's outputs ({instruction, output, generator?} JSON or JSONL)",
  responsesFormat: '{instruction, output} (AlpacaEval format)',
  options: {
    order: {
      type: 'string',
      choices: ['random', 'both'],
      default: 'random',
      description:
        'judge each pair in a random order, or in both orders (cancels position bias, twice the judge calls)',
    },
    preferences: {
      type: 'string',
      placeholder: 'FILE',
      description:
        'win rates of judged preferences (AlpacaEval annotations.json, or JSONL of {instruction, model_output, baseline_output, preference in [0, 1]}): no model, no judge',
    },
    lcFit: {
      type: 'string',
      choices: LC_FITS,
      default: 'official',
      description: "AlpacaEval 2.0's official LC fit, or alignkit's maximum-likelihood fit",
    },
    lcDifficulty: {
      type: 'string',
      placeholder: 'FILE',
      description: 'instruction_difficulty.csv (index, instruction_difficulty)',
    },
    lcGamed: {
      type: 'string',
      placeholder: 'FILE',
      description: "df_gamed.csv (gamed-baseline rows, with the difficulty: the leaderboard's variant)",
    },
  },
  load(o, s) {
    const lc = { fit: s.lcFit, extras: loadLcExtras({ difficultyFile: s.lcDifficulty, gamedFile: s.lcGamed }) };
    if (s.preferences) {
      const extra = (['model', 'judge', 'responses', 'data'] as const).find((f) =>
        Array.isArray(o[f]) ? o[f].length > 0 : o[f] !== undefined,
      );
      if (extra)
        throw inputError(`--preferences holds judged comparisons already; it takes no --${extra}`, {
          field: `--${extra}`,
        });
      return { lc, preferences: loadPreferences(s.preferences), source: s.preferences };
    }
    needModelOrResponses('winrate', o);
    const examples = loadBaselineOutputs(needData('winrate', o, 'baseline outputs')[0]).slice(0, o.limit);
    if (o.responses.length && !o.judge) throw inputError('eval winrate needs --judge REF to score --responses');
    return { lc, examples, responses: o.responses.length ? loadModelOutputs(o.responses[0]) : undefined };
  },
  async open(input, c) {
    const { lc, preferences, source, examples, responses } = input;
    if (preferences && source)
      return async () =>
        winrateFromPreferences({ preferences, source, runDir: c.runDir, lc, limit: c.options.limit }).summary;
    const model = responses ? undefined : await c.loadModel(c.options.model!);
    const judge = c.options.judge ? await c.loadJudge(c.options.judge) : undefined;
    return async () =>
      (
        await runWinrate({
          examples: examples!,
          runDir: c.runDir,
          responses,
          concurrency: c.options.concurrency,
          onProgress: c.onProgress,
          model,
          generation: c.generation(defaultWinrateGeneration),
          judge,
          order: c.settings.order,
          lc,
        })
      ).summary;
  },
});
