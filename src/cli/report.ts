import { parseFlags } from './args.ts';
import { writeReport } from '../report/write-report.ts';
import { writeComparison, defaultComparisonPath } from '../report/compare.ts';
import { inputError } from '../errors.ts';

const USAGE = `usage: alignkit report DIR... [--out FILE]

Regenerates DIR/report.html of each run folder from its summary.json and config.json.
With several folders, also writes a page comparing them side by side
(default: compare.html in the folder that holds them).

  --out FILE   where the comparison page goes`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values, positionals: dirs } = parseFlags(argv, { out: { type: 'string' } }, true);
  if (dirs.length === 0) throw inputError(`expected at least one run folder\n${USAGE}`);
  if (values.out !== undefined && dirs.length === 1)
    throw inputError('--out names the comparison page, which needs two or more run folders', { field: '--out' });
  for (const dir of dirs) console.log(`report: ${writeReport(dir)}`);
  if (dirs.length > 1) console.log(`comparison: ${writeComparison(dirs, values.out ?? defaultComparisonPath(dirs))}`);
  return 0;
}
