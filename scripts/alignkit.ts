/**
 * The CLI straight from the TypeScript sources, for tests and development:
 * `node --import tsx scripts/alignkit.ts <command>` runs what `alignkit <command>` runs after
 * `npm run build`, without building.
 */
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
