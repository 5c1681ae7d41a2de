// Resolves `alignkit` and its exported subpaths to the TypeScript sources they are built from
// (package.json "exports": ./dist/X.js ← ./src/X.ts), so that code written for the installed
// package runs in tests against the sources: node --import tsx --import ./test/helpers/alignkit-from-source.mjs
import { register } from 'node:module';

register('./alignkit-from-source-hooks.mjs', import.meta.url);
