import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMBEDDED_RECIPE, type EmbeddedRecipeResult } from './embedded-recipe.ts';

const thousands = (n: number) => n.toLocaleString('en-US');

/** Writes MODEL_CARD.md for the embedded models from the numbers of the run that produced them. */
export function writeModelCard(dir: string, r: EmbeddedRecipeResult): void {
  const large = r.models.find((m) => m.name === 'large')!;
  const small = r.models.find((m) => m.name === 'small')!;
  const rows = r.models.map(
    (m) =>
      `| ${m.name} | ${thousands(m.parameters)} | ${m.config.hiddenSize} | ${m.config.numLayers} | ${m.config.numHeads} | ${m.config.intermediateSize} | ${m.origin} | ${m.steps || '—'} | ${m.finalTrainLoss === null ? '—' : m.finalTrainLoss.toFixed(3)} | ${m.heldOutLoss.toFixed(3)} | ${m.heldOutRealLoss.toFixed(3)} |`,
  );
  const samples = r.models
    .map((m) => `**${m.name}**\n\n${m.samples.map((s) => `> ${s.replaceAll('\n', ' ')}`).join('\n>\n')}\n`)
    .join('\n');
  const c = r.corpus;
  const s = EMBEDDED_RECIPE.small;
  const text = `# The embedded models

alignkit ships two small llama-family models with their tokenizer so that it can do its main job on a
fresh machine with no downloads (\`npm start\`). \`npm run embedded:train\` (recipe in
\`src/demo/embedded-recipe.ts\`, seed ${EMBEDDED_RECIPE.seed}) rewrites this folder; the numbers below come from the
run that produced the files here (${(r.totalSeconds / 60).toFixed(1)} min on 2 shared CPU cores).

## large: stories260K
Andrej Karpathy's pretrained stories260K (tinyllamas, trained with llama2.c on TinyStories; MIT, see
\`large/LICENSE\`), read from the repository's \`data/stories260K\` and stored unchanged (float32) as an HF
directory; its 512-token sentencepiece vocabulary (llama2.c \`tok512.bin\`) as \`tokenizer.json\`.

## small: trained here on the large model's world
A llama with the same vocabulary, trained from random initialization with next-token cross-entropy
(AdamW, lr ${s.lr}, cosine schedule, batch ${s.batchSize}, ${s.epochs} epochs, context ${EMBEDDED_RECIPE.context}) on
${thousands(c.sampledStories)} stories sampled from the large model (from BOS, temperature 1, ${EMBEDDED_RECIPE.storyTokens} tokens each:
${thousands(c.sampledTokens)} tokens, ${c.samplingSeconds.toFixed(0)} s) and the ${thousands(c.realParagraphs)} paragraphs of the
TinyStories sample (\`data/tinystories-sample\`, ${thousands(c.realTokens)} tokens). ${(EMBEDDED_RECIPE.heldOutFraction * 100).toFixed(0)} % of each is held out
(${thousands(c.heldOutChunks)} chunks, ${thousands(c.heldOutRealChunks)} of them real paragraphs).
The large-to-small ratio is ${(large.parameters / small.parameters).toFixed(1)}× (the paper's GPT-2 pairs: 124 M to 774 M / 1.5 B).

| model | parameters | hidden | layers | heads | FFN | origin | steps | final train loss | held-out loss | held-out loss, real paragraphs |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Losses are mean nats per token on the same held-out chunks. The small model is the weaker one, as
a weak guide of weak-to-strong search should be; its samples below show how much weaker.

## Samples ("Once upon a time", temperature 1, seed 1, 48 tokens)

${samples}
## Prompts
\`story-openings.txt\`: the ${thousands(c.storyOpenings)} distinct five-word sentence openings of the TinyStories sample whose
VADER score is 0 (neutral), the prompts of the main job. TinyStories (Eldan & Li 2023) is CDLA-Sharing-1.0; the
small model's training text and these openings derive from its sample (\`data/tinystories-sample/SOURCE.md\`).

## Intended use
Demonstrations and tests of alignkit's methods (the controlled-sentiment experiment of \`npm start\`).
They are tiny models of children's stories: short-range fluent, with little long-range coherence. Not
for any other use.
`;
  writeFileSync(join(dir, 'MODEL_CARD.md'), text);
}
