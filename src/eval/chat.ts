import { createHash } from 'node:crypto';
import type { LanguageModel } from '../lm/language-model.ts';
import type { ChatMessage } from '../tokenizers/tokenizer.ts';

/** How the evaluated model (or a judge) samples one reply. */
export interface GenerationSettings {
  maxNewTokens: number;
  /** 0 = greedy */
  temperature: number;
  topP?: number;
  /** base seed; each item samples with a seed derived from it and the item's key */
  seed?: number;
}

/** Renders the conversation with the model's chat template and samples one reply. */
export async function sampleChat(model: LanguageModel, messages: readonly ChatMessage[], settings: GenerationSettings, seed?: number): Promise<string> {
  const prompt = model.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  return samplePrompt(model, prompt, settings, seed);
}

export async function samplePrompt(model: LanguageModel, prompt: string, settings: GenerationSettings, seed?: number): Promise<string> {
  const [sample] = await model.sample({
    prompt,
    n: 1,
    maxNewTokens: settings.maxNewTokens,
    temperature: settings.temperature,
    topP: settings.topP,
    seed: seed ?? settings.seed,
  });
  return sample?.text ?? '';
}

/** A per-item seed: stable across runs and resumes, different between items. */
export function itemSeed(base: number | undefined, key: string): number | undefined {
  if (base === undefined) return undefined;
  const h = createHash('sha256').update(key).digest();
  return (base + h.readUInt32LE(0)) % 2 ** 31;
}
