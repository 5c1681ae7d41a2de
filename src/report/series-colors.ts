/** Tableau 10: distinct, colour-blind tolerant, and still apart when printed in grey. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#9c755f',
  '#ff9da7',
  '#bab0ac',
];

export const MARKERS = ['circle', 'square', 'triangle', 'diamond'] as const;
export type MarkerShape = (typeof MARKERS)[number];

/** Line dash patterns of the variants of one series (variant 0 is solid). */
const DASHES = [undefined, '7 4', '2 3', '10 3 2 3'];
/** Bar fill opacity of the variants of one series. */
const OPACITIES = [1, 0.55, 0.3, 0.75];

export interface SeriesStyle {
  color: string;
  marker: MarkerShape;
  /** SVG stroke-dasharray, undefined for solid */
  dash?: string;
  /** fill opacity for bars */
  opacity: number;
}

/**
 * Gives each series name one style for a whole page, so "dpo" is the same orange in every plot
 * of a report. A comparison registers each run's copy of a series as a variant of it: the same
 * colour, told apart by dash pattern, marker and bar shade.
 */
export class SeriesColors {
  private readonly keys = new Map<string, number>();
  private readonly variants = new Map<string, { key: string; variant: number }>();

  private index(key: string): number {
    let i = this.keys.get(key);
    if (i === undefined) {
      i = this.keys.size;
      this.keys.set(key, i);
    }
    return i;
  }

  /** Draws series `name` as variant `variant` of the series `key`. */
  setVariant(name: string, key: string, variant: number): void {
    this.variants.set(name, { key, variant });
  }

  style(name: string): SeriesStyle {
    const registered = this.variants.get(name);
    const i = this.index(registered?.key ?? name);
    const variant = registered?.variant ?? 0;
    return {
      color: PALETTE[i % PALETTE.length],
      marker: MARKERS[(registered ? variant : i) % MARKERS.length],
      dash: DASHES[variant % DASHES.length],
      opacity: OPACITIES[variant % OPACITIES.length],
    };
  }
}
