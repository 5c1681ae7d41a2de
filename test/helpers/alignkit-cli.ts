/**
 * The node arguments that run the `alignkit` command from the TypeScript sources (what the
 * compiled bin/alignkit.mjs runs after `npm run build`), so that CLI tests check the sources
 * without a build: `spawn(process.execPath, [...ALIGNKIT, 'generate', …])`.
 */
export const ALIGNKIT: readonly string[] = ['--import', 'tsx', 'scripts/alignkit.ts'];
