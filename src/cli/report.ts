/** `alignkit report DIR...`: regenerate run reports, and compare several runs side by side. */
import { inputError } from '../errors.ts';
import { command } from './command-spec.ts';

export const reportCommand = command({
  name: 'report',
  summary: 'regenerate and compare run reports',
  description:
    'Regenerates DIR/report.html of each run folder from its summary.json and config.json. With several folders, also writes a page comparing them side by side (default: compare.html in the folder that holds them).',
  examples: ['report runs/steer runs/demo'],
  positionals: { name: 'DIR', noun: 'run folder', description: 'run folders written by alignkit commands', min: 1 },
  options: {
    out: {
      type: 'string',
      placeholder: 'FILE',
      description: 'where the comparison page goes (needs two or more folders)',
    },
  },
  async run(values, { positionals: dirs }) {
    const { writeReport } = await import('../report/write-report.ts');
    const { writeComparison, defaultComparisonPath } = await import('../report/compare.ts');
    if (values.out !== undefined && dirs.length === 1)
      throw inputError('--out names the comparison page, which needs two or more run folders', { field: '--out' });
    for (const dir of dirs) console.log(`report: ${writeReport(dir)}`);
    if (dirs.length > 1) console.log(`comparison: ${writeComparison(dirs, values.out ?? defaultComparisonPath(dirs))}`);
    return 0;
  },
});
