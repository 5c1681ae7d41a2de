import { inputError } from '../errors.ts';
import type { FinishReason } from '../lm/language-model.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import type { TaskKind } from './label-encoding.ts';

/** An attribute's value for one response; null = not applicable (left out of probing). */
export type AttributeValue = number | string | boolean | null;

/** What an attribute function sees about one prompt and the model's response to it. */
export interface AttributeContext {
  prompt: string;
  promptTokens: readonly number[];
  response: string;
  responseTokens: readonly number[];
  /** log p(token | everything before) of each response token under the model (temperature 1) */
  responseLogprobs: readonly number[];
  finishReason: FinishReason;
  /** the data item the prompt came from (every field of its JSONL line) */
  fields: Readonly<Record<string, unknown>>;
  tokenizer: Tokenizer;
  options: AttributeOptions;
}

/** Settings the built-in attributes read (the CLI fills them from flags). */
export interface AttributeOptions {
  /** character names for `character` */
  names?: readonly string[];
  /** data field holding the reference answer for `consistency` (default: reference, answer, label) */
  referenceField?: string;
  /** how `confidence` combines the answer tokens' probabilities */
  confidence?: 'mean' | 'first' | 'last' | 'min';
  /** cap for `steps` (the paper caps at 8) */
  maxSteps?: number;
  [other: string]: unknown;
}

/**
 * An attribute of a whole response that probes try to predict from the prompt's hidden state.
 * `atStep` gives the label for the state after t response tokens (timeline probing): for the
 * length it is the remaining length; by default the value itself.
 */
export interface Attribute {
  name: string;
  task: TaskKind;
  description: string;
  compute(context: AttributeContext): AttributeValue;
  atStep?(value: AttributeValue, t: number, context: AttributeContext): AttributeValue;
}

/** The prefix that names a data-file field as an attribute, e.g. `field:difficulty`. */
export const fieldPrefix = 'field:';

/** An attribute read from the data item itself (its numbers are regression labels unless `task` says otherwise). */
export function fieldAttribute(field: string, task?: TaskKind): Attribute {
  return {
    name: field,
    task: task ?? 'regression',
    description: `the data field "${field}"`,
    compute: ({ fields }) => {
      const v = fields[field];
      return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : null;
    },
  };
}

/**
 * Attributes by name. Users add their own with `register`; a name that is not registered
 * resolves to the data field of that name (or `field:NAME` explicitly).
 */
export class AttributeRegistry {
  private readonly byName = new Map<string, Attribute>();

  register(attribute: Attribute): this {
    if (this.byName.has(attribute.name)) throw inputError(`attribute "${attribute.name}" is already registered`);
    this.byName.set(attribute.name, attribute);
    return this;
  }

  get(name: string): Attribute | undefined {
    return this.byName.get(name);
  }

  list(): Attribute[] {
    return [...this.byName.values()];
  }

  /**
   * Resolves names to attributes. Data-field attributes take their task from the values:
   * all numbers → regression, otherwise classification. `sample` is the data used for that.
   */
  resolve(names: readonly string[], sample: readonly Readonly<Record<string, unknown>>[]): Attribute[] {
    if (names.length === 0)
      throw inputError(`no attributes given (expected some of: ${[...this.byName.keys()].join(', ')}, or field:NAME)`, {
        field: '--attributes',
      });
    return names.map((name) => {
      const field = name.startsWith(fieldPrefix) ? name.slice(fieldPrefix.length) : this.byName.has(name) ? null : name;
      if (field === null) return this.byName.get(name)!;
      const present = sample.map((s) => s[field]).filter((v) => v !== undefined && v !== null);
      if (present.length === 0)
        throw inputError(
          `unknown attribute "${name}": not a built-in (${[...this.byName.keys()].join(', ')}) and no data item has a field "${field}"`,
          { field: '--attributes' },
        );
      return fieldAttribute(field, present.every((v) => typeof v === 'number') ? 'regression' : 'classification');
    });
  }
}
