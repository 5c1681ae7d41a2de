import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import type { ChoiceResult } from './continuous-batcher.ts';
import type { TokenLogprob } from './top-tokens.ts';

/** vLLM's stand-in for -Infinity, which JSON cannot carry. */
const NEG_INF = -9999;
const json = (lp: number) => (Number.isFinite(lp) ? lp : NEG_INF);

/** How token ids are written as strings: their text, or vLLM's `token_id:N` (`return_tokens_as_token_ids`). */
export type TokenNamer = (id: number) => string;

/**
 * A token's text as it reads inside a text: decoded after an anchor token, so that tokenizers
 * which drop a word's leading space at the start of a text (SentencePiece) keep it, and the
 * tokens of a completion concatenate to its text.
 */
export function tokenNamer(tokenizer: Tokenizer, asIds: boolean): TokenNamer {
  if (asIds) return (id) => `token_id:${id}`;
  const [anchor] = tokenizer.encode('a', { addBos: false });
  const anchorText = anchor === undefined ? '' : tokenizer.decode([anchor], { skipSpecial: false });
  const names = new Map<number, string>();
  return (id) => {
    let name = names.get(id);
    if (name === undefined) {
      const anchored = anchor === undefined ? '' : tokenizer.decode([anchor, id], { skipSpecial: false });
      name =
        anchored.startsWith(anchorText) && anchor !== undefined
          ? anchored.slice(anchorText.length)
          : tokenizer.decode([id], { skipSpecial: false });
      names.set(id, name);
    }
    return name;
  };
}

/** One position of a completion's logprobs: the token, its log-prob (null for the first prompt token) and the alternatives. */
export interface LogprobEntry {
  token: number;
  logprob: number | null;
  top: TokenLogprob[];
}

/** A generated choice's tokens with their log-probs (every generated token has one). */
export function generatedEntries(r: ChoiceResult): GeneratedEntry[] {
  return r.tokens.map((token, i) => ({ token, logprob: r.logprobs[i], top: r.top[i] ?? [] }));
}

export interface GeneratedEntry extends LogprobEntry {
  logprob: number;
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

/**
 * The legacy completions shape; each top_logprobs dict also holds the token itself (as vLLM
 * does). `offsets`: each token's text_offset, or where the first token starts when the tokens
 * read as consecutive text (generated tokens).
 */
export function completionLogprobs(
  entries: readonly LogprobEntry[],
  name: TokenNamer,
  offsets: number | readonly number[],
): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = typeof offsets === 'number' ? offsets : 0;
  for (const [i, e] of entries.entries()) {
    const text = name(e.token);
    out.tokens.push(text);
    out.token_logprobs.push(e.logprob === null ? null : json(e.logprob));
    if (e.logprob === null) out.top_logprobs.push(null);
    else {
      const dict: Record<string, number> = {};
      for (const [id, lp] of e.top) dict[name(id)] ??= json(lp);
      dict[text] ??= json(e.logprob);
      out.top_logprobs.push(dict);
    }
    out.text_offset.push(typeof offsets === 'number' ? offset : offsets[i]);
    offset += text.length;
  }
  return out;
}

/**
 * Where each token of an echoed prompt begins in the prompt's text (OpenAI's text_offset):
 * `text.slice(offset[i], offset[i + 1])` is what token i adds to it. A special token (BOS) adds
 * nothing; a SentencePiece tokenizer's first word token carries a space the text does not have.
 * The token texts are read once; only a tokenizer whose pieces do not add up to the text (one
 * that normalizes it) costs a decode per token.
 */
export function promptTextOffsets(
  tokenizer: Tokenizer,
  ids: readonly number[],
  text: string,
  name: TokenNamer,
): number[] {
  const isSpecial = (id: number) =>
    tokenizer.decode([id]) === '' && tokenizer.decode([id], { skipSpecial: false }) !== '';
  const widths = ids.map((id) => (isSpecial(id) ? '' : name(id)));
  const joined = widths.join('');
  if (joined.endsWith(text)) {
    const lead = joined.length - text.length;
    let at = 0;
    return widths.map((piece) => {
      const offset = Math.max(0, at - lead);
      at += piece.length;
      return offset;
    });
  }
  return ids.map((_, i) => Math.min(text.length, tokenizer.decode(ids.slice(0, i)).length));
}

export function appendCompletionLogprobs(a: CompletionLogprobs, b: CompletionLogprobs): CompletionLogprobs {
  return {
    tokens: [...a.tokens, ...b.tokens],
    token_logprobs: [...a.token_logprobs, ...b.token_logprobs],
    top_logprobs: [...a.top_logprobs, ...b.top_logprobs],
    text_offset: [...a.text_offset, ...b.text_offset],
  };
}

const bytesOf = (s: string) => [...Buffer.from(s, 'utf8')];

export interface ChatLogprobContent {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/** The chat shape: `choices[i].logprobs.content[]` (every token has its log-prob). */
export function chatLogprobs(entries: readonly GeneratedEntry[], name: TokenNamer): ChatLogprobContent[] {
  return entries.map((e) => {
    const token = name(e.token);
    return {
      token,
      logprob: json(e.logprob),
      bytes: bytesOf(token),
      top_logprobs: e.top.map(([id, lp]) => {
        const t = name(id);
        return { token: t, logprob: json(lp), bytes: bytesOf(t) };
      }),
    };
  });
}

/** vLLM's `prompt_logprobs`: per prompt token, null for the first, else {id: {logprob, rank, decoded_token}} with the token and its alternatives. */
export function vllmPromptLogprobs(
  ids: readonly number[],
  positions: readonly ({ logprob: number; top: TokenLogprob[]; rank?: number } | null)[],
  name: TokenNamer,
): (Record<string, { logprob: number; rank: number | null; decoded_token: string }> | null)[] {
  return positions.map((p, i) => {
    if (!p) return null;
    const dict: Record<string, { logprob: number; rank: number | null; decoded_token: string }> = {};
    dict[String(ids[i])] = { logprob: json(p.logprob), rank: p.rank ?? null, decoded_token: name(ids[i]) };
    p.top.forEach(([id, lp], r) => {
      dict[String(id)] ??= { logprob: json(lp), rank: r + 1, decoded_token: name(id) };
    });
    return dict;
  });
}
