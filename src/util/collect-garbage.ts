import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

/**
 * Runs a full garbage collection now. Used right after dropping a model's weights, before
 * onnxruntime allocates its own copy, so that the two never coexist (V8 would otherwise collect
 * the freed buffers only later). A no-op if the runtime refuses.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
