/**
 * What the richer length-controlled variants need beyond the judged comparisons, from files the
 * user gives (AlpacaEval publishes them in its Hugging Face dataset `tatsu-lab/alpaca_eval`;
 * nothing is downloaded here):
 *
 * - instruction difficulty: `instruction_difficulty.csv` — an index column (the instruction's
 *   0-based position in the evaluation set) and `instruction_difficulty`;
 * - gamed-baseline rows: `df_gamed.csv`, the layout `glm_winrate.py` reads — `index`,
 *   `preference` (in [0, 1]), `std_delta_len`, `instruction_difficulty` and optionally
 *   `not_gamed_baseline` (default False) and `model`. As in the official code, the difficulty of
 *   each instruction is then taken from this file (its first row with that index).
 */
import { existsSync, readFileSync } from 'node:fs';
import { formatError, inputError } from '../../errors.ts';
import { parseCsv } from '../csv.ts';
import type { GamedRow } from './official-lc.ts';

export interface LcExtras {
  /** instruction difficulty by instruction index */
  difficulty?: Map<number, number>;
  /** where `difficulty` came from, for the summary */
  difficultySource?: string;
  gamed?: GamedRow[];
}

interface CsvTable {
  file: string;
  header: string[];
  rows: { cells: string[]; line: number }[];
}

function readCsvTable(file: string, required: readonly string[]): CsvTable {
  if (!existsSync(file)) throw inputError('file not found', { file });
  const { header, rows } = parseCsv(readFileSync(file, 'utf8'), file);
  for (const column of required)
    if (!header.includes(column))
      throw formatError(`no "${column}" column (found: ${header.join(', ') || 'nothing'})`, { file, line: 1 });
  return { file, header, rows };
}

/** A numeric cell; empty (or NaN, as pandas writes a missing value) is `undefined` when allowed. */
function numberCell(
  table: CsvTable,
  row: CsvTable['rows'][number],
  column: string,
  optional = false,
): number | undefined {
  const text = (row.cells[table.header.indexOf(column)] ?? '').trim();
  if (optional && (text === '' || text === 'NaN' || text === 'nan')) return undefined;
  const value = text === '' ? NaN : Number(text);
  if (!Number.isFinite(value))
    throw formatError(`expected a number, got ${JSON.stringify(text)}`, {
      file: table.file,
      line: row.line,
      field: column,
    });
  return value;
}

function indexCell(table: CsvTable, row: CsvTable['rows'][number], column: string): number {
  const value = numberCell(table, row, column)!;
  if (!Number.isInteger(value) || value < 0)
    throw formatError(`expected an instruction index (an integer ≥ 0), got ${value}`, {
      file: table.file,
      line: row.line,
      field: column,
    });
  return value;
}

function booleanCell(table: CsvTable, row: CsvTable['rows'][number], column: string): boolean {
  const text = (row.cells[table.header.indexOf(column)] ?? '').trim().toLowerCase();
  if (text === 'true' || text === '1' || text === '1.0') return true;
  if (text === 'false' || text === '0' || text === '0.0') return false;
  throw formatError(`expected True or False, got ${JSON.stringify(text)}`, {
    file: table.file,
    line: row.line,
    field: column,
  });
}

/** instruction_difficulty.csv: the index is the `index` column, else the first column. */
export function loadDifficulty(file: string): Map<number, number> {
  const table = readCsvTable(file, ['instruction_difficulty']);
  const indexColumn = table.header.includes('index') ? 'index' : table.header[0];
  if (indexColumn === 'instruction_difficulty')
    throw formatError('no index column before "instruction_difficulty"', { file, line: 1 });
  const difficulty = new Map<number, number>();
  for (const row of table.rows) {
    const index = indexCell(table, row, indexColumn);
    if (difficulty.has(index))
      throw formatError(`instruction ${index} is listed twice`, { file, line: row.line, field: indexColumn });
    difficulty.set(index, numberCell(table, row, 'instruction_difficulty')!);
  }
  return difficulty;
}

/**
 * df_gamed.csv: the gamed rows in file order, and the difficulty of each instruction (first row
 * per index). Rows with an empty preference are dropped, as the official fit drops NaN labels.
 */
export function loadGamedRows(file: string): { gamed: GamedRow[]; difficulty: Map<number, number> } {
  const table = readCsvTable(file, ['index', 'preference', 'std_delta_len', 'instruction_difficulty']);
  const gamed: GamedRow[] = [];
  const difficulty = new Map<number, number>();
  for (const row of table.rows) {
    const index = indexCell(table, row, 'index');
    const rowDifficulty = numberCell(table, row, 'instruction_difficulty')!;
    if (!difficulty.has(index)) difficulty.set(index, rowDifficulty);
    const preference = numberCell(table, row, 'preference', true);
    if (preference === undefined) continue;
    if (preference < 0 || preference > 1)
      throw formatError(`expected a preference in [0, 1], got ${preference}`, {
        file,
        line: row.line,
        field: 'preference',
      });
    gamed.push({
      preference,
      stdDeltaLen: numberCell(table, row, 'std_delta_len')!,
      difficulty: rowDifficulty,
      notGamedBaseline: table.header.includes('not_gamed_baseline')
        ? booleanCell(table, row, 'not_gamed_baseline')
        : false,
    });
  }
  if (!gamed.length) throw formatError('no gamed-baseline rows with a preference', { file });
  return { gamed, difficulty };
}

/** Reads `--lc-difficulty` / `--lc-gamed`; the gamed file carries the difficulty itself. */
export function loadLcExtras(options: { difficultyFile?: string; gamedFile?: string }): LcExtras {
  const { difficultyFile, gamedFile } = options;
  if (difficultyFile && gamedFile)
    throw inputError(
      'give --lc-difficulty or --lc-gamed, not both: with gamed rows the instruction difficulty comes from the gamed file, as in the official code',
      { field: '--lc-difficulty' },
    );
  if (gamedFile) {
    const { gamed, difficulty } = loadGamedRows(gamedFile);
    return { gamed, difficulty, difficultySource: gamedFile };
  }
  if (difficultyFile) return { difficulty: loadDifficulty(difficultyFile), difficultySource: difficultyFile };
  return {};
}

/**
 * The difficulty of the instruction at `index`: from the extras' file when one was given (an
 * index it lacks is an error naming the file), else the value the record itself carries.
 */
export function difficultyAt(extras: LcExtras, index: number, fromRecord: number | undefined): number | undefined {
  if (!extras.difficulty) return fromRecord;
  const value = extras.difficulty.get(index);
  if (value === undefined)
    throw inputError(`no instruction_difficulty for instruction ${index} (0-based position in the evaluation set)`, {
      file: extras.difficultySource,
    });
  return value;
}
