/**
 * `alignkit bench --out DIR`'s record: DIR/summary.json holds every figure (its section, the
 * alignkit value and unit, the reference's name and value, the ratio, the target if any), one
 * table per section, and the conditions of the run (command line, date, commit, threads, load
 * average at the start and end, versions), and when each section ran with the load average as it
 * started and ended. A section's figures enter through `add`, whatever they
 * are; nothing here lists them. The file is rewritten after each section, so a run cut short keeps
 * what it finished.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../errors.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import type { Figure } from '../util/bench-figure.ts';
import { finishConditions, type MeasurementConditions } from './measurement-conditions.ts';
import type { Summary, Table } from './summary.ts';

export interface RecordedFigure extends Figure {
  section: string;
}

/** When a section ran and the machine's load average (1, 5, 15 min) as it started and ended. */
export interface SectionSpan {
  name: string;
  startedAt: string;
  finishedAt: string;
  loadAverage: { start: number[]; end: number[] };
}

export interface BenchSummary extends Summary {
  kind: 'bench';
  figures: RecordedFigure[];
  sections: SectionSpan[];
  conditions: MeasurementConditions;
}

/** A figure's value as the README tables show it: whole numbers with thousands separators from 100 up, else 3 significant digits. */
export function formatBenchValue(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

function sectionTable(section: string, about: string, figures: readonly Figure[]): Table {
  const withUnit = (v: number, unit: string) =>
    Number.isFinite(v) && unit ? `${formatBenchValue(v)} ${unit}` : formatBenchValue(v);
  return {
    title: section,
    columns: ['figure', 'alignkit', 'reference', 'ratio', 'target'],
    rows: figures.map((f) => [
      f.name.trim(),
      withUnit(f.value, f.unit),
      f.reference ? `${f.reference.name}: ${withUnit(f.reference.value, f.unit)}` : null,
      f.reference && Number.isFinite(f.reference.ratio) ? `${f.reference.ratio.toFixed(2)}×` : null,
      f.target ?? null,
    ]),
    note: `${about}. Ratio > 1: alignkit faster (or smaller) than the reference.`,
  };
}

export class BenchRecord {
  private readonly sections: { about: string; figures: Figure[]; span: SectionSpan }[] = [];
  private readonly file: string;
  /** where the next section's span starts: the end of the previous one */
  private mark: { at: string; loadAverage: number[] };

  /** Checks that `dir` can hold the record (creating it) and writes an empty summary there at once, before any section runs. */
  constructor(
    dir: string,
    private readonly conditions: MeasurementConditions,
  ) {
    try {
      mkdirSync(dir, { recursive: true });
      if (!statSync(dir).isDirectory()) throw new Error('it is not a folder');
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'EEXIST' ? 'a file is in the way' : (e as Error).message;
      throw inputError(`--out ${dir}: cannot make it a folder for summary.json (${reason})`);
    }
    this.file = join(dir, 'summary.json');
    this.mark = { at: conditions.startedAt, loadAverage: conditions.loadAverage.start };
    this.write();
  }

  /** Records one section's figures, just after it ran, and rewrites summary.json. */
  add(section: string, about: string, figures: readonly Figure[]): void {
    const now = finishConditions(this.conditions);
    const end = { at: now.finishedAt!, loadAverage: now.loadAverage.end! };
    this.sections.push({
      about,
      figures: [...figures],
      span: {
        name: section,
        startedAt: this.mark.at,
        finishedAt: end.at,
        loadAverage: { start: this.mark.loadAverage, end: end.loadAverage },
      },
    });
    this.mark = end;
    this.write();
  }

  summary(): BenchSummary {
    return {
      kind: 'bench',
      title: 'alignkit bench: speed and memory figures',
      tables: this.sections.map((s) => sectionTable(s.span.name, s.about, s.figures)),
      plots: [],
      figures: this.sections.flatMap((s) => s.figures.map((f) => ({ section: s.span.name, ...f }))),
      sections: this.sections.map((s) => s.span),
      conditions: finishConditions(this.conditions),
    };
  }

  private write(): void {
    writeJsonAtomic(this.file, this.summary());
  }
}
