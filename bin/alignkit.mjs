#!/usr/bin/env node
// The installed command: compiled JavaScript from dist/ (`npm run build`; `npm ci` builds it).
// Tests and development run the TypeScript sources instead: scripts/alignkit.ts.
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';

// WebAssembly (the small-model decode kernel, src/lm/native/wasm/) compiled by V8's optimizing
// tier on first use: its baseline tier runs the kernel's SIMD code 10-30x slower until tier-up,
// which cost a 400-token generate more (~50 slow tokens) than compiling at once does (~25-65 ms)
v8.setFlagsFromString('--no-liftoff');

const entry = new URL('../dist/cli/main.js', import.meta.url);
let main;
try {
  ({ main } = await import(entry.href));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes(fileURLToPath(entry))) throw e;
  console.error('alignkit: the compiled CLI (dist/) is missing; run `npm run build` (`npm ci` runs it)');
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
