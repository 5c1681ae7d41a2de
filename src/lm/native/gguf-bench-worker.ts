/**
 * Child process of the GGUF bench: `ENGINE FILE THREADS` runs one engine (alignkit, llama.cpp,
 * or alignkit-8b: one sequence, few steps) on one file at THREADS and sends its figures to the
 * parent over IPC.
 */
import { runAlignkit, runLlamaCpp } from './gguf-bench.ts';

const [engine, file, threads] = process.argv.slice(2);
process.env.ALIGNKIT_THREADS = threads;
if (engine === 'llama.cpp') process.send!(await runLlamaCpp(file, Number(threads)));
else if (engine === 'alignkit-8b') process.send!(await runAlignkit(file, 4, true));
else process.send!(await runAlignkit(file));
