import { createRng } from '../../util/random.ts';

/**
 * A seeded two-way split that keeps each group's proportion: of a group of n items,
 * round(n·fraction) go to the first part, but a group of two or more always has at least one
 * item in each part (a singleton goes to the second part).
 */
export function stratifiedSplit<T>(
  items: readonly T[],
  groupOf: (item: T) => string,
  fraction: number,
  seed: number,
): { first: T[]; second: T[] } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`split fraction must be in (0, 1), got ${fraction}`);
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const g = groupOf(item);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(item);
  }
  const rng = createRng(seed);
  const first = new Set<T>();
  for (const key of [...groups.keys()].sort()) {
    const members = rng.shuffle([...groups.get(key)!]);
    const k = members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(members.length * fraction)));
    for (const m of members.slice(0, k)) first.add(m);
  }
  return { first: items.filter((i) => first.has(i)), second: items.filter((i) => !first.has(i)) };
}
