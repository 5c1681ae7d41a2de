/**
 * The Summary of a training run for its report: headline numbers, the loss curve (train and
 * held-out), one plot per family of objective metrics (rewards/*, logps/*, accuracies, ...),
 * the learning rate, and a table of the last train and eval values.
 */
import type { Plot, Series, Summary, Table } from '../run/summary.ts';
import type { LoraConfig } from './lora.ts';

type MetricRecord = Record<string, unknown> & { split?: string; step: number };

const BOOKKEEPING = new Set([
  'split',
  'step',
  'epoch',
  'tokens',
  'elapsed_s',
  'startup_s',
  'learning_rate',
  'grad_norm',
  'tokens_per_second',
  'loss',
]);

function series(records: readonly MetricRecord[], key: string, name = key): Series {
  return { name, points: records.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key] as number]) };
}

/** Plot group of a metric: the part before "/", else the metric itself. */
const groupOf = (key: string) => (key.includes('/') ? key.split('/')[0] : key);

export function trainingSummary(
  kind: string,
  records: readonly MetricRecord[],
  info: { totalSteps: number; lora?: LoraConfig; examples: number },
): Summary {
  const trainRecords = records.filter((r) => r.split === 'train');
  const evalRecords = records.filter((r) => r.split === 'eval');
  const lastTrain = trainRecords[trainRecords.length - 1] ?? { step: 0 };
  const firstEval = evalRecords[0];
  const lastEval = evalRecords[evalRecords.length - 1];

  const plots: Plot[] = [
    {
      type: 'line',
      title: 'Loss',
      xLabel: 'optimizer step',
      yLabel: 'loss',
      series: [
        series(trainRecords, 'loss', 'train'),
        ...(evalRecords.length
          ? [{ ...series(evalRecords, 'eval/loss', 'held-out'), mode: 'line+markers' as const }]
          : []),
      ],
    },
  ];
  const metricKeys = [...new Set(trainRecords.flatMap((r) => Object.keys(r)).filter((k) => !BOOKKEEPING.has(k)))];
  const groups = new Map<string, string[]>();
  for (const k of metricKeys) groups.set(groupOf(k), [...(groups.get(groupOf(k)) ?? []), k]);
  for (const [group, keys] of groups) {
    plots.push({
      type: 'line',
      title: group,
      xLabel: 'optimizer step',
      yLabel: group,
      series: keys.flatMap((k) => [
        series(trainRecords, k, `train ${k}`),
        ...(evalRecords.some((r) => typeof r[`eval/${k}`] === 'number')
          ? [{ ...series(evalRecords, `eval/${k}`, `held-out ${k}`), mode: 'line+markers' as const }]
          : []),
      ]),
    });
  }
  plots.push({
    type: 'line',
    title: 'Learning rate',
    xLabel: 'optimizer step',
    yLabel: 'learning rate',
    series: [series(trainRecords, 'learning_rate', 'lr')],
  });

  const num = (r: MetricRecord | undefined, k: string) => (r && typeof r[k] === 'number' ? (r[k] as number) : null);
  const table: Table = {
    title: 'Final metrics',
    columns: ['metric', 'train (last step)', 'held-out (before)', 'held-out (after)'],
    rows: ['loss', ...metricKeys].map((k) => [
      k,
      num(lastTrain, k),
      num(firstEval, `eval/${k}`),
      num(lastEval, `eval/${k}`),
    ]),
  };
  return {
    kind: `train ${kind}`,
    title: `Training (${kind}${info.lora ? `, LoRA r=${info.lora.rank}` : ', full fine-tuning'})`,
    metrics: {
      steps: lastTrain.step,
      examples: info.examples,
      'final train loss': num(lastTrain, 'loss'),
      'held-out loss before': num(firstEval, 'eval/loss'),
      'held-out loss after': evalRecords.length > 1 ? num(lastEval, 'eval/loss') : null,
      'tokens/s': num(lastTrain, 'tokens_per_second'),
      'train time (s)': num(lastTrain, 'elapsed_s'),
      'start-up to first step (s)': num(lastTrain, 'startup_s'),
    },
    tables: [table],
    plots,
  };
}
