import type { SeriesColors } from './series-colors.ts';

/** What every plot renderer gets: the drawing width and the page's series colours. */
export interface PlotContext {
  width: number;
  colors: SeriesColors;
}

/** A rendered plot's inner SVG markup, the height it needs, and notes for the caption (e.g. skipped points). */
export interface PlotBody {
  svg: string;
  height: number;
  notes: string[];
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}
