/**
 * A second thread for the AdamW update. The update streams weights, gradients and both moments
 * through memory, and one core cannot use all of the memory bandwidth: a worker thread takes
 * about half of the tensors (their buffers transferred to it, not copied) while the main thread
 * updates the rest, which halves the optimizer's time. The worker runs the same SIMD kernel and
 * driver as the main thread (adamw-kernel.ts).
 */
import { Worker } from 'node:worker_threads';
import { DRIVER_SOURCE, KERNEL_CHUNK, type AdamwCoefficients } from './adamw-kernel.ts';

export interface AdamwTensors {
  w: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
  c: AdamwCoefficients;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const update = new Function('instance', 'chunk', workerData.driver)(new WebAssembly.Instance(workerData.module), workerData.chunk);
parentPort.on('message', (job) => {
  job.c.forEach((c, i) => update(new Float32Array(job.w[i]), new Float32Array(job.g[i]), new Float32Array(job.m[i]), new Float32Array(job.v[i]), c));
  parentPort.postMessage(job, [...job.w, ...job.g, ...job.m, ...job.v]);
});
`;

/** A typed array that owns its whole buffer (transferable without taking neighbours along). */
export const owned = (a: Float32Array): Float32Array =>
  a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !(a.buffer instanceof SharedArrayBuffer)
    ? a
    : a.slice();

export class AdamwWorker {
  private readonly worker: Worker;

  constructor(module: WebAssembly.Module) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, driver: DRIVER_SOURCE, chunk: KERNEL_CHUNK },
    });
    this.worker.unref();
  }

  /**
   * Updates the tensors on the worker. Their arrays are detached while it runs; the returned
   * ones (same order) replace them.
   */
  run(tensors: readonly AdamwTensors[]): Promise<{ w: Float32Array; m: Float32Array; v: Float32Array }[]> {
    const job = {
      c: tensors.map((t) => t.c),
      w: tensors.map((t) => owned(t.w).buffer),
      g: tensors.map((t) => owned(t.g).buffer),
      m: tensors.map((t) => owned(t.m).buffer),
      v: tensors.map((t) => owned(t.v).buffer),
    };
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => {
        this.worker.off('message', onMessage);
        reject(e);
      };
      const onMessage = (back: typeof job) => {
        this.worker.off('error', onError);
        resolve(
          back.c.map((_, i) => ({
            w: new Float32Array(back.w[i] as ArrayBuffer),
            m: new Float32Array(back.m[i] as ArrayBuffer),
            v: new Float32Array(back.v[i] as ArrayBuffer),
          })),
        );
      };
      this.worker.once('message', onMessage);
      this.worker.once('error', onError);
      this.worker.postMessage(job, [...job.w, ...job.g, ...job.m, ...job.v] as ArrayBuffer[]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
