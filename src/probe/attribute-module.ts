import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inputError } from '../errors.ts';
import type { Attribute, AttributeRegistry } from './attribute.ts';

/**
 * Registers the attributes a user's module exports (`export const attributes = [...]`, or a
 * default export of one attribute or a list), so CLI users can add attribute functions.
 * Returns their names.
 */
export async function registerAttributeModule(registry: AttributeRegistry, file: string): Promise<string[]> {
  if (!existsSync(file)) throw inputError('attribute module not found', { file });
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(resolve(file)).href);
  } catch (e) {
    throw inputError(`cannot load the attribute module (${(e as Error).message})`, { file });
  }
  const exported = mod.attributes ?? mod.default;
  const list = Array.isArray(exported) ? exported : exported ? [exported] : [];
  if (list.length === 0)
    throw inputError(
      'exports no attributes (expected `export const attributes = [{ name, task, compute }]` or a default export)',
      { file },
    );
  return list.map((a: Partial<Attribute>, i) => {
    if (
      typeof a?.name !== 'string' ||
      !a.name ||
      (a.task !== 'regression' && a.task !== 'classification') ||
      typeof a.compute !== 'function'
    )
      throw inputError(
        `attribute ${i} needs a name, task "regression" or "classification", and a compute(context) function`,
        { file },
      );
    registry.register({ description: `from ${file}`, ...a } as Attribute);
    return a.name;
  });
}
