import type { LanguageModel } from '../lm/language-model.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { AlignkitError } from '../errors.ts';

const pieces = new WeakMap<Tokenizer, string[]>();

/** What each id decodes to on its own; two tokenizers with equal lists share one vocabulary. */
function idPieces(tokenizer: Tokenizer): string[] {
  let list = pieces.get(tokenizer);
  if (!list) {
    list = [];
    for (let id = 0; id < tokenizer.vocabSize; id++) list.push(tokenizer.decode([id], { skipSpecial: false }));
    pieces.set(tokenizer, list);
  }
  return list;
}

/**
 * Token-level methods (EFT, ED, IVG's token part) add log-probs id by id, so every model must use
 * the same token→id map. This compares the whole map (vocabulary size alone is not enough:
 * the reference code's same-size check accepts Llama-2 with Mistral).
 */
export function assertSameVocabulary(models: readonly { role: string; model: LanguageModel }[], method: string): void {
  const [first, ...rest] = models;
  if (!first) return;
  for (const other of rest) {
    if (other.model.tokenizer === first.model.tokenizer) continue;
    const a = first.model.tokenizer,
      b = other.model.tokenizer;
    const mismatch = (detail: string) =>
      new AlignkitError(
        'capability',
        `${method} mixes next-token distributions id by id, so its models must share one vocabulary; ` +
          `${first.role} model "${first.model.id}" and ${other.role} model "${other.model.id}" differ (${detail}). ` +
          `Use w2s (text-level) for models with different tokenizers.`,
      );
    if (a.vocabSize !== b.vocabSize) throw mismatch(`vocabulary sizes ${a.vocabSize} and ${b.vocabSize}`);
    if (a.eosId !== b.eosId) throw mismatch(`EOS ids ${a.eosId} and ${b.eosId}`);
    const pa = idPieces(a),
      pb = idPieces(b);
    for (let id = 0; id < pa.length; id++)
      if (pa[id] !== pb[id])
        throw mismatch(`id ${id} is ${JSON.stringify(pa[id])} in one and ${JSON.stringify(pb[id])} in the other`);
  }
}
