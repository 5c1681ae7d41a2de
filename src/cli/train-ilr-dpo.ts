/**
 * `alignkit train ilr-dpo --model PATH --prompts FILE --reward REF --iterations T
 * --samples-per-prompt N --out DIR [--length-alpha A] [--resume]`: iterative length-regularized
 * DPO (α = 0: plain iterative DPO). The DPO training flags (--lr, --epochs, --batch-size,
 * --lora-rank, ...) apply to every iteration.
 */
import { resolve } from 'node:path';
import { inputError } from '../errors.ts';
import { RunDir } from '../report/run-dir.ts';
import { writeReport } from '../report/write-report.ts';
import { runIlrDpo, type IlrDpoResult, type IterationRecord } from '../train/ilr-dpo-loop.ts';
import { ilrDpoSummary } from '../train/ilr-dpo-summary.ts';
import { checkLengthAlpha } from '../train/length-regularized.ts';
import { openReward } from '../train/reward-spec.ts';
import { intFlag, numberFlag, requireFlag } from './args.ts';
import { formatTable } from './run-output.ts';
import { preferenceFlagSpec, preferenceTrainer } from './preference-training.ts';
import { samplingFlagSpec, samplingOf } from './sampling-flags.ts';
import { stageProgressRenderer } from './stage-progress.ts';
import { readPrompts } from './steer.ts';
import { parseTrainFlags, requireFile } from './train-flags.ts';
import { betaOf, modelPool } from './train-modpo.ts';

/** Settings a resumed loop must share with the run it continues (more --iterations may be asked for). */
const FIXED = [
  'model',
  'prompts',
  'evalPrompts',
  'reward',
  'lengthAlpha',
  'selectionLengthPenalty',
  'beta',
  'sampling',
  'seed',
  'promptsPerIteration',
] as const;

export async function run(argv: string[]): Promise<number> {
  const values = parseTrainFlags(argv, {
    ...preferenceFlagSpec,
    ...samplingFlagSpec,
    prompts: { type: 'string' },
    'eval-prompts': { type: 'string' },
    reward: { type: 'string' },
    iterations: { type: 'string' },
    'samples-per-prompt': { type: 'string' },
    'eval-samples-per-prompt': { type: 'string' },
    'prompts-per-iteration': { type: 'string' },
    'length-alpha': { type: 'string' },
    'selection-length-penalty': { type: 'string' },
    'api-key-env': { type: 'string' },
    'external-training': { type: 'boolean' },
    iterate: { type: 'string' },
  });
  if (values.data !== undefined || values['eval-data'] !== undefined)
    throw inputError(
      'train ilr-dpo makes its own preference data each iteration; give --prompts (and --eval-prompts), not --data',
      { field: 'data' },
    );
  const modelPath = requireFlag(values, 'model');
  const out = requireFlag(values, 'out');
  const promptsFile = requireFile(values, 'prompts');
  const prompts = readPrompts(promptsFile).map((p) => p.prompt);
  const evalFile = values['eval-prompts'] ? requireFile(values, 'eval-prompts') : undefined;
  const evalPrompts = evalFile ? readPrompts(evalFile).map((p) => p.prompt) : undefined;
  const rewardSpec = requireFlag(values, 'reward');
  const iterations = intFlag(values, 'iterations', 3);
  const sampling = samplingOf(values, 'samples-per-prompt', { samples: 4, maxNewTokens: 256 });
  const lengthAlpha = checkLengthAlpha(numberFlag(values, 'length-alpha', 0));
  const selectionLengthPenalty = numberFlag(values, 'selection-length-penalty', 0);
  if (selectionLengthPenalty < 0)
    throw inputError(`--selection-length-penalty must be ≥ 0, got ${selectionLengthPenalty}`, {
      field: 'selection-length-penalty',
    });
  const beta = betaOf(values);
  const seed = intFlag(values, 'seed', 42);
  const promptsPerIteration = intFlag(values, 'prompts-per-iteration');
  const evalSamplesPerPrompt = intFlag(values, 'eval-samples-per-prompt');
  const resume = values.resume === true;
  const external = values['external-training'] === true;
  const trainer = external
    ? ('external' as const)
    : preferenceTrainer('train ilr-dpo', values, (p) => (p === modelPath ? values.tokenizer : undefined));
  if (values.iterate !== undefined && !resume)
    throw inputError('--iterate continues a loop that waits for an external training step; pass it with --resume', {
      field: 'iterate',
    });

  const config = {
    command: 'train ilr-dpo',
    model: modelPath,
    prompts: promptsFile,
    evalPrompts: evalFile ?? null,
    reward: rewardSpec,
    iterations,
    lengthAlpha,
    selectionLengthPenalty,
    beta,
    sampling,
    evalSamplesPerPrompt: evalSamplesPerPrompt ?? sampling.samplesPerPrompt,
    seed,
    promptsPerIteration: promptsPerIteration ?? null,
    training: Object.fromEntries(
      [
        'lr',
        'epochs',
        'steps',
        'batch-size',
        'grad-accum',
        'optimizer',
        'schedule',
        'warmup',
        'lora-rank',
        'lora-alpha',
        'max-length',
        'loss',
      ]
        .filter((k) => values[k] !== undefined)
        .map((k) => [k, values[k]]),
    ),
  };
  const runDir = RunDir.create(out, { resume });
  const previous = runDir.readConfig();
  if (resume && previous) {
    for (const key of FIXED) {
      if (JSON.stringify(previous[key]) !== JSON.stringify(config[key]))
        throw inputError(
          `--resume with another ${key} than the run in ${out} (${JSON.stringify(previous[key])}); resume with the same settings`,
          { field: key },
        );
    }
  }
  runDir.writeConfig(config);

  const pool = modelPool(values);
  const progress = values.quiet ? undefined : stageProgressRenderer('train ilr-dpo');
  let records: IterationRecord[] = [];
  let waiting: IlrDpoResult['waiting'];
  const rewardName = { value: rewardSpec };
  try {
    const start = await pool.load(modelPath);
    const reward = await openReward(
      rewardSpec,
      { load: pool.load, policyTokenizer: start.tokenizer, sftRef: modelPath, beta, format: sampling.format },
      'reward',
    );
    rewardName.value = reward.name;
    ({ records, waiting } = await runIlrDpo({
      out,
      model: modelPath,
      prompts,
      evalPrompts,
      iterations,
      promptsPerIteration,
      reward,
      sampling,
      evalSamplesPerPrompt,
      beta,
      lengthAlpha,
      selectionLengthPenalty,
      seed,
      resume,
      // iterates the loop wrote are freed when done; π_0 and reward models stay loaded
      load: pool.load,
      release: (ref) => (resolve(ref).startsWith(resolve(out)) ? pool.release(ref) : Promise.resolve()),
      train: trainer,
      iterate: values.iterate,
      results: runDir,
      onProgress: (e) =>
        progress?.update({
          stage: `iteration ${e.iteration} ${e.stage}`,
          done: e.done,
          total: e.total,
          note: e.detail,
        }),
    }));
  } catch (e) {
    records = runDir.finished<IterationRecord>();
    throw e;
  } finally {
    progress?.stop();
    if (records.length) {
      runDir.writeSummary(ilrDpoSummary(records, { rewardName: rewardName.value, lengthAlpha, beta }));
      writeReport(out);
    }
    await pool.dispose();
  }
  const summary = ilrDpoSummary(records, { rewardName: rewardName.value, lengthAlpha, beta });
  if (waiting) {
    console.log(
      [
        `iteration ${waiting.iteration} waits for external training.`,
        `  pairs (TRL JSONL):  ${waiting.data}`,
        `  start and reference: ${waiting.policy}`,
        `  loss: DPO with beta ${beta}${lengthAlpha > 0 ? ` plus the length margin ${lengthAlpha}·(length_chosen − length_rejected) (columns in the file, policy tokens)` : ''}`,
        `then continue with the same flags plus: --resume --iterate <the trained checkpoint, or BASE_URL#MODEL serving it>`,
      ].join('\n'),
    );
    return 0;
  }
  if (!values.quiet) {
    console.log(`\n${summary.title}\n\n${formatTable(summary.tables[0])}`);
    console.log(
      `\npreference data    ${out}/iter-<t>/preferences.jsonl (TRL format)\nfinal model        ${records.at(-1)?.policy}\nreport             ${out}/report.html`,
    );
  }
  return 0;
}
