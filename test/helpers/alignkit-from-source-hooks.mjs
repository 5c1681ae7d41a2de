// The resolve hook of alignkit-from-source.mjs.
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const { exports } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const sources = new Map(
  Object.entries(exports)
    .filter(([, target]) => typeof target === 'object')
    .map(([path, target]) => [
      path === '.' ? 'alignkit' : `alignkit/${path.slice(2)}`,
      new URL(target.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'), root).href,
    ]),
);

export async function resolve(specifier, context, next) {
  const source = sources.get(specifier);
  return source ? next(source, context) : next(specifier, context);
}
