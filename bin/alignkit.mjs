#!/usr/bin/env node
// The installed command: compiled JavaScript from dist/ (`npm run build`; `npm ci` builds it).
// Tests and development run the TypeScript sources instead: scripts/alignkit.ts.
import { fileURLToPath } from 'node:url';

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
