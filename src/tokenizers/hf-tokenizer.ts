/**
 * A Hugging Face tokenizer: `tokenizer.json` (run by @huggingface/tokenizers) plus, when present,
 * `tokenizer_config.json` (special tokens, add_bos_token, chat_template) and `chat_template.jinja`.
 *
 * Conventions:
 * - `encode` never adds the post-processor's special tokens; it prepends BOS when asked, by default
 *   when add_bos_token is true (or, without that key, when the post-processor would add BOS). A
 *   text that already starts with the BOS token (a rendered chat template) gets no second BOS.
 * - Plain GPT-2-style byte-level BPE tokenizers encode through ByteLevelBpeEncoder, which gives
 *   the library's ids several times faster; everything else encodes through the library.
 * - `decode` drops special tokens by default and cleans up tokenization spaces only when
 *   tokenizer_config.json says `clean_up_tokenization_spaces: true`, so decode inverts encode.
 *   Byte-level (GPT-2) and byte-fallback (SentencePiece) decoders are served from a per-id byte
 *   cache; other decoders go through the library.
 */
import { dirname, existsSync, join, readFileSync, statSync } from '../util/io.ts';
import { Tokenizer as HfLibTokenizer } from '@huggingface/tokenizers';
import { formatError, inputError } from '../errors.ts';
import type { ChatMessage, Tokenizer } from './tokenizer.ts';
import { ChatTemplate, selectChatTemplate } from './chat-template.ts';
import { PieceDecoder } from './piece-decoder.ts';
import { fromByteLevel } from './byte-level.ts';
import { ByteLevelBpeEncoder } from './byte-level-bpe.ts';

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** The parts of tokenizer.json this code reads; the rest passes through untouched. */
export interface TokenizerJson {
  model: { type?: string; vocab: Record<string, number> | [string, number][]; [key: string]: unknown };
  added_tokens?: AddedTokenJson[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  post_processor?: unknown;
  decoder?: unknown;
  [key: string]: unknown;
}

export type TokenizerConfigJson = Record<string, unknown>;

export const TOKENIZER_JSON = 'tokenizer.json';
export const TOKENIZER_CONFIG_JSON = 'tokenizer_config.json';
export const CHAT_TEMPLATE_JINJA = 'chat_template.jinja';

/** Names recognized as end-of-sequence when no tokenizer_config.json says which token it is. */
const USUAL_EOS_NAMES = ['</s>', '<|endoftext|>', '<|im_end|>', '<|eot_id|>', '<|end_of_text|>', '<eos>'];

export class HfTokenizer implements Tokenizer {
  readonly json: TokenizerJson;
  readonly config: TokenizerConfigJson;
  /** The file or directory it came from (named in errors). */
  readonly source: string;
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number;
  readonly addBosByDefault: boolean;
  readonly chatTemplate: ChatTemplate;
  readonly specialIds: ReadonlySet<number>;
  private readonly lib: HfLibTokenizer;
  private readonly cleanUpSpaces: boolean;
  private readonly jsonFile: string;
  // Built on first use (undefined until then; null when the tokenizer does not qualify).
  private pieceDecoderCache: PieceDecoder | null | undefined;
  private fastEncoderCache: ByteLevelBpeEncoder | null | undefined;

  constructor(
    json: TokenizerJson,
    config: TokenizerConfigJson = {},
    source = '<memory>',
    options: { chatTemplate?: string | null } = {},
  ) {
    const { jsonFile, configFile } = filesOf(source);
    if (!json || typeof json !== 'object' || !json.model || typeof json.model !== 'object') {
      throw formatError('not a tokenizer.json: expected an object with a "model"', { file: jsonFile, field: 'model' });
    }
    this.json = json;
    this.config = config;
    this.source = source;
    try {
      this.lib = new HfLibTokenizer(
        {
          normalizer: null,
          pre_tokenizer: null,
          post_processor: null,
          decoder: null,
          ...json,
          added_tokens: json.added_tokens ?? [],
        },
        config,
      );
    } catch (e) {
      throw formatError(`the tokenizer could not be built: ${(e as Error).message}`, { file: jsonFile });
    }
    this.vocabSize = maxId(json) + 1;
    this.jsonFile = jsonFile;

    const idOfSpecial = (field: string, required: boolean): number | null => {
      const name = specialTokenName(config[field]);
      if (name === null) return null;
      const id = this.lib.token_to_id(name);
      if (id === undefined) {
        if (required)
          throw formatError(`${field} "${name}" is not a token of ${jsonFile}`, { file: configFile, field });
        return null;
      }
      return id;
    };
    const added = json.added_tokens ?? [];
    const hasConfigKey = (k: string) => Object.hasOwn(config, k);
    this.bosId = hasConfigKey('bos_token') ? idOfSpecial('bos_token', true) : bosOfPostProcessor(json, this.lib);
    this.eosId = hasConfigKey('eos_token')
      ? idOfSpecial('eos_token', true)
      : (added.find((t) => t.special && USUAL_EOS_NAMES.includes(t.content))?.id ?? null);
    this.padId = idOfSpecial('pad_token', false) ?? this.eosId ?? 0;
    this.addBosByDefault =
      this.bosId !== null &&
      (typeof config.add_bos_token === 'boolean'
        ? config.add_bos_token
        : bosOfPostProcessor(json, this.lib) === this.bosId);

    const specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
    for (const name of Array.isArray(config.additional_special_tokens) ? config.additional_special_tokens : []) {
      const id = this.lib.token_to_id(specialTokenName(name) ?? '');
      if (id !== undefined) specialIds.add(id);
    }
    this.specialIds = specialIds;
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;

    const templateSource =
      options.chatTemplate !== undefined ? options.chatTemplate : selectChatTemplate(config.chat_template, configFile);
    const extra: Record<string, unknown> = {};
    for (const field of ['unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
      const name = specialTokenName(config[field]);
      if (name !== null) extra[field] = name;
    }
    this.chatTemplate = new ChatTemplate(
      templateSource,
      {
        bosToken: this.bosId === null ? null : this.idToToken(this.bosId),
        eosToken: this.eosId === null ? null : this.idToToken(this.eosId),
        extra,
      },
      configFile,
    );
  }

  /** Loads tokenizer.json from a directory, with tokenizer_config.json and chat_template.jinja when present. */
  static fromDirectory(dir: string): HfTokenizer {
    const jsonFile = join(dir, TOKENIZER_JSON);
    if (!existsSync(jsonFile)) throw inputError(`no ${TOKENIZER_JSON} in this directory`, { file: dir });
    return HfTokenizer.fromFile(jsonFile);
  }

  /** Loads a tokenizer.json file; tokenizer_config.json and chat_template.jinja are read from the same directory. */
  static fromFile(jsonFile: string): HfTokenizer {
    const dir = dirname(jsonFile);
    const json = readJsonObject(jsonFile, true) as unknown as TokenizerJson;
    const config = readJsonObject(join(dir, TOKENIZER_CONFIG_JSON), false) ?? {};
    const jinjaFile = join(dir, CHAT_TEMPLATE_JINJA);
    const chatTemplate =
      config.chat_template === undefined && existsSync(jinjaFile) ? readFileSync(jinjaFile, 'utf8') : undefined;
    const source = jsonFile.endsWith(`/${TOKENIZER_JSON}`) || jsonFile === TOKENIZER_JSON ? dir : jsonFile;
    return new HfTokenizer(json, config, source, chatTemplate === undefined ? {} : { chatTemplate });
  }

  /**
   * Ids a text can encode to without spelling out special tokens: the model's vocabulary and
   * added non-special tokens. Some checkpoints leave added special tokens past their embedding
   * rows (Gemma 3 1B's `<image_soft_token>`, id 262144 of 262144 rows).
   */
  get regularVocabSize(): number {
    return maxId(this.json, false) + 1;
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate.isReal;
  }

  tokenToId(token: string): number | undefined {
    return this.lib.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.lib.id_to_token(id);
  }

  encode(text: string, options: { addBos?: boolean } = {}): number[] {
    const fast = this.fastEncoder;
    const ids = fast ? fast.encode(text) : this.encodeWithLibrary(text);
    const addBos = options.addBos ?? this.addBosByDefault;
    if (addBos && this.bosId !== null && ids[0] !== this.bosId) ids.unshift(this.bosId);
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    const skipSpecial = options.skipSpecial ?? true;
    const pieces = this.pieceDecoder;
    if (pieces) return pieces.decode(ids, skipSpecial);
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || this.lib.id_to_token(id) === undefined) {
        throw inputError(`token id ${id} is outside the tokenizer's vocabulary (ids 0..${this.vocabSize - 1})`, {
          file: this.source,
        });
      }
    }
    return this.lib.decode(ids as number[], {
      skip_special_tokens: skipSpecial,
      clean_up_tokenization_spaces: this.cleanUpSpaces,
    });
  }

  /** Encodes through @huggingface/tokenizers itself (no BOS), bypassing the fast byte-level encoder. */
  encodeWithLibrary(text: string): number[] {
    const ids = this.lib.encode(text, { add_special_tokens: false }).ids;
    for (const id of ids) {
      if (id === undefined || id === null)
        throw formatError(
          `the tokenizer produced a token that has no id (no unk_token) for text ${JSON.stringify(text.slice(0, 40))}`,
          { file: this.source },
        );
    }
    return ids;
  }

  /** Decodes through @huggingface/tokenizers itself, bypassing the per-id cache (for checking it). */
  decodeWithLibrary(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.lib.decode(ids as number[], {
      skip_special_tokens: options.skipSpecial ?? true,
      clean_up_tokenization_spaces: this.cleanUpSpaces,
    });
  }

  get usesPieceCache(): boolean {
    return this.pieceDecoder !== null;
  }

  get usesFastEncoder(): boolean {
    return this.fastEncoder !== null;
  }

  private get pieceDecoder(): PieceDecoder | null {
    if (this.pieceDecoderCache === undefined) {
      this.pieceDecoderCache = this.cleanUpSpaces
        ? null
        : buildPieceDecoder(this.json, this.lib, this.vocabSize, this.specialIds, this.jsonFile);
    }
    return this.pieceDecoderCache;
  }

  private get fastEncoder(): ByteLevelBpeEncoder | null {
    if (this.fastEncoderCache === undefined)
      this.fastEncoderCache = ByteLevelBpeEncoder.fromTokenizerJson(this.json, this.config);
    return this.fastEncoderCache;
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    return this.chatTemplate.apply(messages, options);
  }
}

/** `source` is a tokenizer.json path or the directory holding it. */
function filesOf(source: string): { jsonFile: string; configFile: string } {
  const dir = source.endsWith('.json') ? dirname(source) : source;
  return {
    jsonFile: source.endsWith('.json') ? source : join(dir, TOKENIZER_JSON),
    configFile: join(dir, TOKENIZER_CONFIG_JSON),
  };
}

/** A special token in tokenizer_config.json is a string or an AddedToken object {content}. */
export function specialTokenName(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return null;
}

function readJsonObject(file: string, required: boolean): Record<string, unknown> | null {
  if (!existsSync(file)) {
    if (required) throw inputError('file not found', { file });
    return null;
  }
  if (statSync(file).isDirectory()) throw inputError('expected a JSON file, found a directory', { file });
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw formatError(`malformed JSON (${(e as Error).message})`, { file });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw formatError('expected a JSON object', { file });
  return value as Record<string, unknown>;
}

/** The largest id of the tokenizer (with `specialAdded: false`, not counting added special tokens). */
function maxId(json: TokenizerJson, specialAdded = true): number {
  let max = -1;
  const vocab = json.model.vocab;
  if (Array.isArray(vocab)) max = vocab.length - 1;
  else if (vocab && typeof vocab === 'object') for (const id of Object.values(vocab)) if (id > max) max = id;
  for (const t of json.added_tokens ?? []) if (t.id > max && (specialAdded || !t.special)) max = t.id;
  return max;
}

/** The special token a TemplateProcessing post-processor puts before the text, if any. */
function bosOfPostProcessor(json: TokenizerJson, lib: HfLibTokenizer): number | null {
  const find = (pp: unknown): string | null => {
    if (!pp || typeof pp !== 'object') return null;
    const p = pp as { type?: string; single?: unknown[]; processors?: unknown[] };
    if (p.type === 'Sequence') {
      for (const inner of p.processors ?? []) {
        const found = find(inner);
        if (found !== null) return found;
      }
      return null;
    }
    if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return null;
    const first = p.single[0] as { SpecialToken?: { id?: string } } | undefined;
    return first?.SpecialToken?.id ?? null;
  };
  const name = find(json.post_processor);
  return name === null ? null : (lib.token_to_id(name) ?? null);
}

type DecoderJson = {
  type?: string;
  decoders?: DecoderJson[];
  pattern?: { String?: string };
  content?: string;
  start?: number;
  stop?: number;
};

/**
 * A per-id byte cache for the two decoder families whose output is a plain concatenation of
 * per-token bytes: byte-level (GPT-2, Llama 3, Qwen) and Replace(▁→space)+ByteFallback+Fuse
 * [+Strip] (Llama 2, Mistral, llama2.c conversions). Returns null for anything else.
 */
function buildPieceDecoder(
  json: TokenizerJson,
  lib: HfLibTokenizer,
  vocabSize: number,
  specialIds: ReadonlySet<number>,
  source: string,
): PieceDecoder | null {
  if ((json.model as { end_of_word_suffix?: unknown }).end_of_word_suffix) return null;
  const decoder = json.decoder as DecoderJson | null | undefined;
  if (!decoder) return null;
  const steps = decoder.type === 'Sequence' ? (decoder.decoders ?? []) : [decoder];
  const addedContent = new Set((json.added_tokens ?? []).map((t) => t.content));
  const utf8 = new TextEncoder();
  const pieces = new Array<Uint8Array>(vocabSize);

  if (steps.length === 1 && steps[0].type === 'ByteLevel') {
    for (let id = 0; id < vocabSize; id++) {
      const token = lib.id_to_token(id);
      if (token === undefined) continue;
      // The library passes added tokens through as text.
      const bytes = addedContent.has(token) ? utf8.encode(token) : fromByteLevel(token);
      if (bytes === null) return null;
      pieces[id] = bytes;
    }
    return new PieceDecoder({ pieces, specialIds, source });
  }

  const [replace, fallback, fuse, strip, ...rest] = steps;
  const isSentencePieceStyle =
    replace?.type === 'Replace' &&
    replace.pattern?.String === '▁' &&
    replace.content === ' ' &&
    fallback?.type === 'ByteFallback' &&
    fuse?.type === 'Fuse' &&
    rest.length === 0 &&
    (strip === undefined || (strip.type === 'Strip' && strip.content === ' ' && (strip.stop ?? 0) === 0));
  if (!isSentencePieceStyle) return null;
  for (let id = 0; id < vocabSize; id++) {
    const token = lib.id_to_token(id);
    if (token === undefined) continue;
    // Same test as the library's ByteFallback decoder.
    const byte =
      token.length === 6 && token.startsWith('<0x') && token.endsWith('>') ? parseInt(token.slice(3, 5), 16) : NaN;
    pieces[id] = Number.isNaN(byte) ? utf8.encode(token.replaceAll('▁', ' ')) : Uint8Array.of(byte);
  }
  return new PieceDecoder({ pieces, specialIds, stripLeadingSpaces: strip?.start ?? 0, source });
}
