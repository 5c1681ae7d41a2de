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

/**
 * A backend that renders chat itself (an OpenAI-compatible server's /chat/completions). The
 * LanguageModel interface has no chat method; remote models that cannot render their template
 * locally (no /tokenize, e.g. OpenAI) expose this one, and it is used only then.
 */
interface ServerChat {
  chat(req: {
    messages: readonly ChatMessage[];
    maxNewTokens: number;
    temperature?: number;
    topP?: number;
    seed?: number;
  }): Promise<{ text: string }[]>;
}

const serverChat = (model: LanguageModel): ServerChat | undefined =>
  typeof (model as Partial<ServerChat>).chat === 'function' ? (model as unknown as ServerChat) : undefined;

/** A conversation ready to sample: a rendered prompt, or messages a server renders. */
export type RenderedChat = { prompt: string } | { messages: readonly ChatMessage[] };

/**
 * Renders with the model's own chat template when it has one (the usual path); otherwise lets a
 * server render it; otherwise uses the tokenizer's plain fallback rendering.
 */
export function renderChat(model: LanguageModel, messages: readonly ChatMessage[]): RenderedChat {
  if (!model.tokenizer.hasChatTemplate && serverChat(model)) return { messages };
  return { prompt: model.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }) };
}

/** A stable text identity of a rendered chat (for cache keys). */
export const renderedText = (r: RenderedChat) => ('prompt' in r ? r.prompt : `chat:${JSON.stringify(r.messages)}`);

export async function sampleRendered(
  model: LanguageModel,
  rendered: RenderedChat,
  settings: GenerationSettings,
  seed?: number,
): Promise<string> {
  const common = {
    maxNewTokens: settings.maxNewTokens,
    temperature: settings.temperature,
    topP: settings.topP,
    seed: seed ?? settings.seed,
  };
  if ('messages' in rendered) {
    const [result] = await serverChat(model)!.chat({ messages: rendered.messages, ...common });
    return result?.text ?? '';
  }
  const [sample] = await model.sample({ prompt: rendered.prompt, n: 1, ...common });
  return sample?.text ?? '';
}

/** Renders the conversation for the model and samples one reply. */
export function sampleChat(
  model: LanguageModel,
  messages: readonly ChatMessage[],
  settings: GenerationSettings,
  seed?: number,
): Promise<string> {
  return sampleRendered(model, renderChat(model, messages), settings, seed);
}

/** A per-item seed: stable across runs and resumes, different between items. */
export function itemSeed(base: number | undefined, key: string): number | undefined {
  if (base === undefined) return undefined;
  const h = createHash('sha256').update(key).digest();
  return (base + h.readUInt32LE(0)) % 2 ** 31;
}
