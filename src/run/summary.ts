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
  /**
   * [x, y] points; for bar, radar and heatmap plots x is the category label. A y that is not a
   * finite number (NaN and Infinity are stored by JSON as null) is skipped when drawn; a line
   * breaks there.
   */
  points: [number | string, number][];
  /**
   * ± a standard error (or other half-width) of each point's y, drawn as an error bar (bar, line
   * and scatter plots); one per point, null where there is none
   */
  errors?: (number | null)[];
  /** line and scatter plots: how to draw this series (default: the plot type's) */
  mode?: 'line' | 'markers' | 'line+markers';
}

export interface Plot {
  /**
   * line/scatter: x numeric (or categories when any x is a string); bar: grouped bars per
   * category; radar: one polygon per series over the categories; heatmap: one row per series,
   * one column per category, y is the cell's value.
   */
  type: 'line' | 'scatter' | 'bar' | 'radar' | 'heatmap';
  title: string;
  /** axis labels; put the unit in them, e.g. "tokens processed (log)", "gold reward" */
  xLabel?: string;
  yLabel?: string;
  series: Series[];
  /** line/scatter: 'log' for quantities spanning decades (compute, tokens); values ≤ 0 are then skipped */
  xScale?: 'linear' | 'log';
  yScale?: 'linear' | 'log';
  /** a value range the axis always covers, e.g. [1, 10] for judge scores (radar rings, y axes, heatmap colors) */
  yRange?: [number, number];
  /** optional note printed under the plot */
  note?: string;
}

export interface Summary {
  /** the command that produced the run, e.g. "steer", "train dpo", "eval mt-bench-101" */
  kind: string;
  title: string;
  /** headline numbers, shown first */
  metrics?: Record<string, number | string | null>;
  tables: Table[];
  /** how many of the first tables the report shows before the plots (default 0: all tables, then the plots) */
  leadTables?: number;
  /** the tables `npm run readme -- --record` puts in the README, by title prefix (default: all) */
  readmeTables?: string[];
  plots: Plot[];
  /** anything else the command wants to keep */
  [extra: string]: unknown;
}
