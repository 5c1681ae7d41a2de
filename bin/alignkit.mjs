#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader; no build step.
import v8 from 'node:v8';
import { register } from 'tsx/esm/api';
// WebAssembly (the small-model decode kernel, src/lm/native/wasm/) compiled by V8's optimizing
// tier on first use: its baseline tier runs the kernel's SIMD code 10-30x slower until tier-up,
// which cost a 400-token generate more (~50 slow tokens) than compiling at once does (~25-65 ms)
v8.setFlagsFromString('--no-liftoff');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
