/**
 * Child process of the GGUF bench: `ENGINE FILE THREADS [ACCURACY]` runs one engine (alignkit,
 * llama.cpp, or alignkit-8b: one sequence, few steps) on one file at THREADS (alignkit's
 * quantized matmuls at ACCURACY, an ALIGNKIT_QUANTIZED_ACCURACY value) and sends its figures to
 * the parent over IPC.
 */
import { runAlignkit, runLlamaCpp } from './gguf-bench.ts';

const [engine, file, threads, accuracy] = process.argv.slice(2);
process.env.ALIGNKIT_THREADS = threads;
if (accuracy) process.env.ALIGNKIT_QUANTIZED_ACCURACY = accuracy;
if (engine === 'llama.cpp') process.send!(await runLlamaCpp(file, Number(threads)));
else if (engine === 'alignkit-8b') process.send!(await runAlignkit(file, 4, true));
else process.send!(await runAlignkit(file));
