/**
 * Child process of benchFamilies: `write NAME DIR` writes the random-weight model directory,
 * `run NAME DIR` loads and runs it; either sends its result to the parent over IPC.
 */
import { runBenchModel, writeBenchModel } from './bench-families.ts';

const [action, name, dir] = process.argv.slice(2);
if (action === 'write') {
  writeBenchModel(name, dir);
  process.send!({ written: true });
} else {
  process.send!(await runBenchModel(dir));
}
