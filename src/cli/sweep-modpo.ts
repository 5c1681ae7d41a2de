/**
 * `alignkit sweep modpo --model SFT --data PAIRS --margin-models REF --weights 0:1:0.1
 * --objectives R1,R2 --eval-prompts FILE --out DIR`: one MODPO policy per weight vector, each
 * evaluated (with the SFT model and any implicit-reward margin model) on every objective; the
 * report shows the Pareto front. The objectives are rewards (`length`, `sentiment`, `rm:PATH`,
 * `dpo:PATH`, ...), the trained objective's first. Training flags as for `train dpo`.
 */
import { join, resolve } from 'node:path';
import { inputError } from '../errors.ts';
import { RunDir } from '../report/run-dir.ts';
import { writeReport } from '../report/write-report.ts';
import { runModpoSweep, type MemberRecord } from '../train/modpo-sweep.ts';
import { modpoSweepSummary } from '../train/modpo-sweep-summary.ts';
import { parseWeightSweep, weightVector } from '../train/objective-weights.ts';
import { openReward, SPEC_HELP, type RewardSource } from '../train/reward-spec.ts';
import { intFlag, listFlag, requireFlag } from './args.ts';
import { formatTable } from './run-output.ts';
import { preferenceFlagSpec, preferenceTrainer } from './preference-training.ts';
import { samplingFlagSpec, samplingOf } from './sampling-flags.ts';
import { stageProgressRenderer } from './stage-progress.ts';
import { readPrompts } from './steer.ts';
import { parseTrainFlags, requireFile } from './train-flags.ts';
import { betaOf, marginFlagSpec, modelPool, openMarginModels } from './train-modpo.ts';

const FIXED = ['model', 'data', 'marginModels', 'objectives', 'beta', 'evalPrompts', 'sampling', 'seed'] as const;

export async function run(argv: string[]): Promise<number> {
  const values = parseTrainFlags(argv, {
    ...preferenceFlagSpec,
    ...marginFlagSpec,
    ...samplingFlagSpec,
    weights: { type: 'string' },
    objectives: { type: 'string' },
    'eval-prompts': { type: 'string' },
    'samples-per-prompt': { type: 'string' },
  });
  const modelPath = requireFlag(values, 'model');
  const dataFile = requireFile(values, 'data');
  const out = requireFlag(values, 'out');
  const beta = betaOf(values);
  const marginSpecs = listFlag(values, 'margin-models');
  const { weights, dropped } = parseWeightSweep(requireFlag(values, 'weights'), marginSpecs.length);
  const objectiveSpecs = listFlag(values, 'objectives');
  if (objectiveSpecs.length < 2)
    throw inputError(
      `expected at least two objectives to evaluate the family on, the trained objective's first (each one of: ${SPEC_HELP}), e.g. sentiment,length`,
      { field: 'objectives' },
    );
  const evalFile = requireFile(values, 'eval-prompts');
  const evalPrompts = readPrompts(evalFile).map((p) => p.prompt);
  const sampling = {
    ...samplingOf(values, 'samples-per-prompt', { samples: 4, maxNewTokens: 256 }),
    seed: intFlag(values, 'seed', 42),
  };
  const resume = values.resume === true;
  const trainer = preferenceTrainer('sweep modpo', values, (p) => (p === modelPath ? values.tokenizer : undefined));

  const config = {
    command: 'sweep modpo',
    model: modelPath,
    data: dataFile,
    marginModels: marginSpecs,
    weights: weights.map(weightVector),
    droppedWeights: dropped,
    objectives: objectiveSpecs,
    beta,
    evalPrompts: evalFile,
    sampling,
    seed: sampling.seed,
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
          `--resume with another ${key} than the sweep in ${out} (${JSON.stringify(previous[key])}); resume with the same settings`,
          { field: key },
        );
    }
  }
  runDir.writeConfig(config);
  if (dropped.length && !values.quiet)
    console.error(
      `sweep modpo: w_k = 0 is not a MODPO run (the loss divides by w_k); an implicit-reward margin model is evaluated as that end instead`,
    );

  const pool = modelPool(values);
  const progress = values.quiet ? undefined : stageProgressRenderer('sweep modpo');
  let records: MemberRecord[] = [];
  let objectiveNames = objectiveSpecs;
  try {
    const margins = await openMarginModels(values, pool, beta);
    const sft = await pool.load(modelPath);
    const objectives: RewardSource[] = [];
    for (const spec of objectiveSpecs)
      objectives.push(
        await openReward(
          spec,
          { load: pool.load, policyTokenizer: sft.tokenizer, sftRef: modelPath, beta, format: sampling.format },
          'objectives',
        ),
      );
    objectiveNames = objectives.map((o) => o.name);
    records = await runModpoSweep({
      out,
      sft: modelPath,
      data: { file: dataFile, maxLength: sft.capabilities.maxContext },
      margins,
      weights,
      beta,
      objectives,
      evalPrompts,
      sampling,
      marginOptions: { cacheDir: values['margin-cache'] ?? join(out, 'margin-cache') },
      marginPolicies: margins.flatMap((m) => (m.policy ? [m.policy] : [])),
      seed: sampling.seed,
      load: pool.load,
      // member checkpoints are freed once evaluated; the SFT, margin and objective models stay loaded
      release: (ref) => (resolve(ref).startsWith(resolve(out)) ? pool.release(ref) : Promise.resolve()),
      train: trainer,
      results: runDir,
      onProgress: (e) =>
        progress?.update({ stage: `${e.member} ${e.stage}`, done: e.done, total: e.total, note: e.detail }),
    });
  } catch (e) {
    records = runDir.finished<MemberRecord>();
    throw e;
  } finally {
    progress?.stop();
    if (records.length) {
      runDir.writeSummary(modpoSweepSummary(records, objectiveNames, { beta }));
      writeReport(out);
    }
    await pool.dispose();
  }
  if (!values.quiet) {
    const summary = modpoSweepSummary(records, objectiveNames, { beta });
    console.log(`\n${summary.title}\n\n${formatTable(summary.tables[0])}`);
    console.log(
      `\n${Object.entries(summary.metrics ?? {})
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}\nreport: ${out}/report.html`,
    );
  }
  return 0;
}
