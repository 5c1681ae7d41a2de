/**
 * What a run's summary.json holds. The HTML report is rendered from this file and config.json
 * alone, so `alignkit report DIR` can regenerate it; each command chooses its own tables and plots.
 */
export interface Table {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
  /** optional note printed under the table */
  note?: string;
}

export interface Series {
  name: string;
  /** [x, y] points; for bar plots x is the category label */
  points: [number | string, number][];
}

export interface Plot {
  type: 'line' | 'scatter' | 'bar' | 'radar';
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: Series[];
}

export interface Summary {
  /** the command that produced the run, e.g. "steer", "train dpo", "eval mt-bench-101" */
  kind: string;
  title: string;
  /** headline numbers, shown first */
  metrics?: Record<string, number | string | null>;
  tables: Table[];
  plots: Plot[];
  /** anything else the command wants to keep */
  [extra: string]: unknown;
}
