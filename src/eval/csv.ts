import { formatError } from '../errors.ts';

/**
 * Parses RFC 4180 CSV (quoted fields with "" escapes and embedded newlines, CRLF or LF).
 * Returns the header and rows with the 1-based line each row starts on. Malformed quoting (an
 * unterminated field, text after a closing quote) is an error naming the line.
 */
export function parseCsv(text: string, file?: string): { header: string[]; rows: { cells: string[]; line: number }[] } {
  const records: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let atFieldStart = true;
  let blank = true; // nothing at all on the record's line (a quoted "" is not blank)
  const endField = () => {
    cells.push(field);
    field = '';
    atFieldStart = true;
  };
  const endRecord = () => {
    endField();
    if (!blank) records.push({ cells, line: start });
    cells = [];
    blank = true;
  };
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\n' && c !== '\r') blank = false;
    if (quoted) {
      if (c === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          // RFC 4180: a quoted field ends at a comma or the end of the record; text after its
          // closing quote means a quote inside was not doubled, and the rows are no longer known
          const next = body[i + 1];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r')
            throw formatError(
              `text after the closing quote of a quoted field (${JSON.stringify(body.slice(i + 1, i + 21))}); a quote inside a quoted field is written ""`,
              { file, line },
            );
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && atFieldStart) {
      quoted = true;
      atFieldStart = false;
      continue;
    }
    if (c === ',') {
      endField();
      continue;
    }
    if (c === '\r' && body[i + 1] === '\n') continue;
    if (c === '\n') {
      endRecord();
      line++;
      start = line;
      continue;
    }
    field += c;
    atFieldStart = false;
  }
  if (quoted) throw formatError('unterminated quoted field', { file, line: start });
  if (!blank) endRecord();
  const [head, ...rows] = records;
  if (!head) throw formatError('empty CSV file (expected a header row)', { file });
  return { header: head.cells.map((h) => h.trim()), rows };
}
