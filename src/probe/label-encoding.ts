import { inputError } from '../errors.ts';
import type { AttributeValue } from './attribute.ts';

export type TaskKind = 'regression' | 'classification';

export interface EncodedLabels {
  attribute: string;
  task: TaskKind;
  /** positions (in the input order) of the items that have a value */
  kept: number[];
  /** positions of the items without a value (null, missing, NaN) */
  missing: number[];
  /** regression: the values; classification: class indices into `classes` */
  y: Float64Array | Int32Array;
  classes?: string[];
}

const isMissing = (v: unknown) =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) || v === '';

/**
 * Turns an attribute's values (one per item) into probe targets. Numbers are regression
 * targets unless `task` says classification; strings and booleans are classes (sorted).
 * Items without a value are left out and listed; constant labels and mixed types are errors.
 */
export function encodeLabels(
  attribute: string,
  values: readonly (AttributeValue | undefined)[],
  task?: TaskKind,
): EncodedLabels {
  const kept: number[] = [],
    missing: number[] = [];
  values.forEach((v, i) => (isMissing(v) ? missing : kept).push(i));
  if (kept.length === 0)
    throw inputError(`attribute "${attribute}" has no value for any of the ${values.length} items`);
  const present = kept.map((i) => values[i]!);
  const allNumbers = present.every((v) => typeof v === 'number');
  const resolved: TaskKind = task ?? (allNumbers ? 'regression' : 'classification');
  if (resolved === 'regression' && !allNumbers) {
    const bad = present.find((v) => typeof v !== 'number');
    throw inputError(
      `attribute "${attribute}" is a regression attribute but has a non-numeric value (${JSON.stringify(bad)})`,
    );
  }
  const distinct = new Set(present.map((v) => String(v)));
  if (distinct.size < 2)
    throw inputError(
      `attribute "${attribute}" has the same value (${JSON.stringify(present[0])}) for all ${kept.length} items that have one; a probe cannot learn from constant labels`,
    );
  if (resolved === 'regression')
    return { attribute, task: resolved, kept, missing, y: Float64Array.from(present as number[]) };
  const classes = [...distinct].sort(compareClassNames);
  const index = new Map(classes.map((c, i) => [c, i]));
  return {
    attribute,
    task: resolved,
    kept,
    missing,
    y: Int32Array.from(present.map((v) => index.get(String(v))!)),
    classes,
  };
}

function compareClassNames(a: string, b: string): number {
  const na = Number(a),
    nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a < b ? -1 : a > b ? 1 : 0;
}
