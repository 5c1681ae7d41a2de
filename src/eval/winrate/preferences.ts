/**
 * Preferences that are already judged (`eval winrate --preferences FILE`), so win rates can be
 * recomputed from existing annotations without a judge. Two record layouts, in a JSON array or
 * JSONL:
 *
 * - AlpacaEval's annotations (`annotations.json`): `instruction`, `output_1` (the baseline's),
 *   `output_2` (the model's), `preference` in [1, 2] (2 = the model's output preferred; a draw is
 *   1.5 or 0; null = the annotation failed), optional `generator_1` / `generator_2`;
 * - plain: `instruction`, `model_output`, `baseline_output`, `preference` = P(model output
 *   preferred) in [0, 1] (0.5 a draw, null a failed judgement), optional `generator`,
 *   `baseline_generator`.
 *
 * Either may carry `instruction_difficulty`. A record's 0-based position is its instruction index.
 */
import { inputError } from '../../errors.ts';
import { fieldAt, readRecords, stringField, type LocatedRecord } from '../records-file.ts';
import { codePointLength, difficultyOf, keyer } from './data.ts';

export interface PreferenceRow {
  key: string;
  /** 0-based position in the file */
  index: number;
  instruction: string;
  /** P(model output preferred) in [0, 1]; null = the judgement failed */
  preference: number | null;
  modelLength: number;
  baselineLength: number;
  difficulty?: number;
}

export interface PreferenceFile {
  format: 'alpaca_eval' | 'plain';
  rows: PreferenceRow[];
  model?: string;
  baseline?: string;
  /** the model is the baseline itself (AlpacaEval reports LC = 50 then) */
  isBaseline: boolean;
}

const LAYOUTS = {
  alpaca_eval: { model: 'output_2', baseline: 'output_1', modelName: 'generator_2', baselineName: 'generator_1' },
  plain: {
    model: 'model_output',
    baseline: 'baseline_output',
    modelName: 'generator',
    baselineName: 'baseline_generator',
  },
} as const;
type Layout = keyof typeof LAYOUTS;

function layoutOf(record: LocatedRecord): Layout {
  if ('output_1' in record.value || 'output_2' in record.value) return 'alpaca_eval';
  if ('model_output' in record.value || 'baseline_output' in record.value) return 'plain';
  throw inputError(
    'expected AlpacaEval annotation fields (output_1, output_2, preference) or plain ones (model_output, baseline_output, preference)',
    record.where,
  );
}

/** P(model preferred) from the record's `preference` in the layout's coding. */
function preferenceOf(record: LocatedRecord, layout: Layout): number | null {
  const v = record.value.preference;
  if (v === null) return null;
  if (layout === 'alpaca_eval') {
    if (v === 0) return 0.5; // AlpacaEval's old code for a draw
    if (typeof v === 'number' && v >= 1 && v <= 2) return v - 1;
    throw inputError(
      `expected a preference in [1, 2] (0 = draw, null = failed), got ${JSON.stringify(v)}`,
      fieldAt(record, 'preference'),
    );
  }
  if (typeof v === 'number' && v >= 0 && v <= 1) return v;
  throw inputError(
    `expected P(model output preferred) in [0, 1] (null = failed), got ${JSON.stringify(v)}`,
    fieldAt(record, 'preference'),
  );
}

/** The one value a name field takes over the file; several is an error (the fit is per model). */
function single(records: readonly LocatedRecord[], field: string): string | undefined {
  const values = new Set<string>();
  for (const record of records) if (record.value[field] !== undefined) values.add(stringField(record, field));
  if (values.size > 1)
    throw inputError(
      `${field} names ${values.size} models (${[...values].slice(0, 3).join(', ')}…); give the comparisons of one model with one baseline`,
      { file: records[0].where.file, field },
    );
  return values.values().next().value;
}

export function loadPreferences(path: string): PreferenceFile {
  const records = readRecords(path);
  if (!records.length) throw inputError('no preference records', { file: path });
  const format = layoutOf(records[0]);
  const fields = LAYOUTS[format];
  const key = keyer();
  const rows = records.map((record, index): PreferenceRow => {
    if (layoutOf(record) !== format)
      throw inputError(`this record is in the ${layoutOf(record)} layout, the file's first is ${format}`, record.where);
    const instruction = stringField(record, 'instruction');
    const difficulty = difficultyOf(record);
    return {
      key: key(instruction),
      index,
      instruction,
      preference: preferenceOf(record, format),
      modelLength: codePointLength(stringField(record, fields.model)),
      baselineLength: codePointLength(stringField(record, fields.baseline)),
      ...(difficulty !== undefined ? { difficulty } : {}),
    };
  });
  const model = single(records, fields.modelName);
  const baseline = single(records, fields.baselineName);
  return { format, rows, model, baseline, isBaseline: model !== undefined && model === baseline };
}
