/** An ISO timestamp as "2025-06-01 14:03 UTC"; anything else unchanged. */
export function formatTimestamp(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The facts about a run worth a line under its title: when, which versions, which seed. */
export function runFacts(config: Record<string, unknown> | undefined): string[] {
  if (!config) return [];
  const versions = (config.versions ?? {}) as Record<string, unknown>;
  const written = formatTimestamp(config.writtenAt);
  return [
    written && `written ${written}`,
    typeof versions.alignkit === 'string' && `alignkit ${versions.alignkit}`,
    typeof versions.node === 'string' && `node ${versions.node}`,
    config.seed !== undefined && `seed ${String(config.seed)}`,
  ].filter((f): f is string => typeof f === 'string');
}
