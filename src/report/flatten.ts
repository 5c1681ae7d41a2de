/**
 * A nested object as dotted keys (`train.lr`, `models[0].path`) with scalar values; arrays of
 * scalars stay one value. Used to show configurations as a table and to diff them.
 */
export function flatten(value: unknown, prefix = ''): [string, unknown][] {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return [[prefix, value]];
    return value.flatMap((v, i) => flatten(v, `${prefix}[${i}]`));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return [[prefix, value]];
    return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, value]];
}

/** How a flattened value is shown: strings as they are, everything else as JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
