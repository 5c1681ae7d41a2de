#!/usr/bin/env node
// The installed command: compiled JavaScript from dist/ (`npm run build`; `npm ci` builds it).
// Tests and development run the TypeScript sources instead: scripts/alignkit.ts.
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
