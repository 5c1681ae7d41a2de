/**
 * Reproduces the embedded models in embedded/ (npm run embedded:train): "large" (stories260K,
 * copied) and "small" (trained here), then rewrites embedded/MODEL_CARD.md from this run's numbers.
 */
import { join } from 'node:path';
import { trainEmbedded } from '../src/demo/embedded-recipe.ts';
import { writeModelCard } from '../src/demo/model-card.ts';

const root = join(import.meta.dirname, '..');
const out = process.argv[2] ?? join(root, 'embedded');
let lastLine = 0;
const started = Date.now();
const result = await trainEmbedded(out, join(root, 'data'), {
  onProgress(what, p) {
    if (Date.now() - lastLine < 10_000 && p?.phase !== 'done' && p) return;
    lastLine = Date.now();
    const elapsed = ((Date.now() - started) / 1000).toFixed(0);
    console.log(
      p
        ? `[${elapsed}s] ${what}: step ${p.step}/${p.totalSteps}${p.loss !== undefined ? ` loss ${p.loss.toFixed(3)}` : ''}${p.tokensPerSecond ? ` ${p.tokensPerSecond.toFixed(0)} tok/s` : ''}`
        : `[${elapsed}s] ${what}`,
    );
  },
});
writeModelCard(out, result);
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${out}`);
