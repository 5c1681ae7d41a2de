import { inputError } from '../../errors.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import { readJsonl } from '../../util/jsonl.ts';
import type { ValueExample } from '../value-objective.ts';
import { loadSftData, type DataStats, type LoadOptions } from './load-sft.ts';

/**
 * Value-model data: the SFT formats ({"prompt","completion"}, "messages", "text") plus a numeric
 * "reward" per line — the final reward of that response (e.g. a gold reward of sampled responses).
 */
export function loadValueData(file: string, tokenizer: Tokenizer, options: LoadOptions): { examples: ValueExample[]; stats: DataStats } {
  const rewards = new Map<number, number>();
  for (const { value, line } of readJsonl<Record<string, unknown>>(file)) {
    const reward = value?.reward;
    if (typeof reward !== 'number' || !Number.isFinite(reward)) throw inputError(`expected a finite number, got ${JSON.stringify(reward)}`, { file, line, field: 'reward' });
    rewards.set(line, reward);
  }
  const { examples, stats } = loadSftData(file, tokenizer, options);
  return { examples: examples.map((e) => ({ ...e, reward: rewards.get(e.line)! })), stats };
}
