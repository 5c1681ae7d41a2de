/**
 * On-disk representation datasets. A store is a folder:
 *
 *   meta.json                      format, dtype, hidden size, layers, state groups, settings
 *   results.jsonl                  one StoredItem per line, appended as items finish
 *   states/<group>/layer-<l>.bin   rows of hiddenSize float32/float16 values, row i = item i
 *
 * A group is one kind of state: "prompt" (last prompt token), "after-<t>" (after t response
 * tokens), "random-init" (the prompt through a randomly initialised twin). An item's rows are
 * written before its index line, so after a kill the index decides: a torn last line is dropped
 * and the state files are cut back to the finished items.
 */
import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatError, inputError } from '../errors.ts';
import type { FinishReason } from '../lm/language-model.ts';
import { float16ToFloat32, float32ToFloat16 } from '../util/half-precision.ts';
import { appendWhole, writeJsonAtomic } from '../util/atomic-write.ts';
import { appendJsonl, readJsonlForResume } from '../util/jsonl.ts';
import type { AttributeValue } from './attribute.ts';
import type { TaskKind } from './label-encoding.ts';
import { matrix, type Matrix } from './matrix.ts';

export type StateDtype = 'float32' | 'float16';
export const STORE_FORMAT = 'alignkit-representations';

export interface StoreMeta {
  format: typeof STORE_FORMAT;
  version: 1;
  dtype: StateDtype;
  hiddenSize: number;
  layers: number[];
  groups: string[];
  model: string;
  attributes: { name: string; task: TaskKind }[];
  /** the collection settings; a resumed run must use the same */
  settings: Record<string, unknown>;
}

export interface StoredItem {
  /** position in the store (row of every state file) */
  index: number;
  id: string;
  /** line of the data file it came from */
  line?: number;
  prompt: string;
  promptChars: number;
  promptTokens: number;
  response: string;
  responseTokens: number;
  finishReason: FinishReason;
  attributes: Record<string, AttributeValue>;
  /** per timeline step t reached by the response: the attribute labels for the state after t tokens */
  timeline?: Record<string, Record<string, AttributeValue>>;
}

export const promptGroup = 'prompt';
export const randomInitGroup = 'random-init';
export const timelineGroup = (t: number) => `after-${t}`;
export const timelineStep = (group: string): number | null =>
  /^after-(\d+)$/.test(group) ? Number(group.slice(6)) : null;

const bytesPerValue = (dtype: StateDtype) => (dtype === 'float16' ? 2 : 4);
const statePath = (dir: string, group: string, layer: number) => join(dir, 'states', group, `layer-${layer}.bin`);
const metaPath = (dir: string) => join(dir, 'meta.json');
const indexPath = (dir: string) => join(dir, 'results.jsonl');

export type StoreSettings = Omit<StoreMeta, 'format' | 'version' | 'hiddenSize'>;

/** Appends items and their states; created fresh or resumed after a kill. */
export class RepresentationWriter {
  private meta: StoreMeta | null;
  private count: number;

  private constructor(
    readonly dir: string,
    private readonly settings: StoreSettings,
    meta: StoreMeta | null,
    count: number,
  ) {
    this.meta = meta;
    this.count = count;
  }

  /**
   * Opens `dir` for writing. Without `resume`, a folder that already holds items is an error.
   * With it, finished items are kept (returned), a torn tail is dropped, and the settings must
   * match the ones the store was started with.
   */
  static open(
    dir: string,
    settings: StoreSettings,
    options: { resume?: boolean } = {},
  ): { writer: RepresentationWriter; finished: StoredItem[] } {
    const hasItems = existsSync(indexPath(dir)) && statSync(indexPath(dir)).size > 0;
    if (hasItems && !options.resume)
      throw inputError(`${dir} already holds collected items; pass --resume to continue it or choose another --out`, {
        field: '--out',
      });
    mkdirSync(dir, { recursive: true });
    if (!hasItems) {
      // a run killed while writing its first item leaves rows no index line lists: they would
      // become row 0 and shift every later item by one
      for (const group of settings.groups)
        for (const layer of settings.layers) {
          const file = statePath(dir, group, layer);
          if (existsSync(file)) truncateSync(file, 0);
        }
      return { writer: new RepresentationWriter(dir, settings, null, 0), finished: [] };
    }
    const meta = readMeta(dir);
    checkSameSettings(dir, meta, settings);
    const finished = readJsonlForResume<StoredItem>(indexPath(dir));
    finished.forEach((item, i) => {
      if (item.index !== i)
        throw formatError(`item ${i} has index ${item.index}; the index is damaged`, {
          file: indexPath(dir),
          line: i + 1,
        });
    });
    const rowBytes = meta.hiddenSize * bytesPerValue(meta.dtype);
    for (const group of meta.groups)
      for (const layer of meta.layers) {
        const file = statePath(dir, group, layer);
        const size = existsSync(file) ? statSync(file).size : 0;
        const want = finished.length * rowBytes;
        if (size < want)
          throw formatError(
            `holds ${Math.floor(size / rowBytes)} rows but the index lists ${finished.length} items; the store is damaged (start a new --out)`,
            { file },
          );
        if (size > want) truncateSync(file, want);
      }
    return { writer: new RepresentationWriter(dir, settings, meta, finished.length), finished };
  }

  get items(): number {
    return this.count;
  }

  /**
   * Appends one item. `states[group][k]` is the state of layer settings.layers[k]; every
   * group of the settings must be given (zeros for a timeline step the response never reached).
   */
  append(item: Omit<StoredItem, 'index'>, states: Record<string, Float32Array[]>): StoredItem {
    const first = states[this.settings.groups[0]]?.[0];
    if (!first) throw new RangeError(`no states for group "${this.settings.groups[0]}"`);
    if (!this.meta) {
      this.meta = { format: STORE_FORMAT, version: 1, hiddenSize: first.length, ...this.settings };
      writeJsonAtomic(metaPath(this.dir), this.meta);
    }
    const { hiddenSize, dtype, layers, groups } = this.meta;
    for (const group of groups) {
      const rows = states[group];
      if (!rows || rows.length !== layers.length)
        throw new RangeError(`group "${group}" needs ${layers.length} layer states, got ${rows?.length ?? 0}`);
      rows.forEach((row, k) => {
        if (row.length !== hiddenSize)
          throw new RangeError(
            `group "${group}" layer ${layers[k]}: state of size ${row.length}, expected ${hiddenSize}`,
          );
        const file = statePath(this.dir, group, layers[k]);
        if (this.count === 0) mkdirSync(join(this.dir, 'states', group), { recursive: true });
        const bytes = dtype === 'float16' ? float32ToFloat16(row) : row;
        appendWhole(file, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      });
    }
    const stored: StoredItem = { index: this.count, ...item };
    appendJsonl(indexPath(this.dir), stored);
    this.count++;
    return stored;
  }
}

function readMeta(dir: string): StoreMeta {
  const file = metaPath(dir);
  if (!existsSync(file))
    throw formatError(`not a representation store (no meta.json); collect one with "alignkit probe collect"`, {
      file: dir,
    });
  let meta: StoreMeta;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw formatError(`malformed JSON (${(e as Error).message})`, { file });
  }
  if (meta.format !== STORE_FORMAT)
    throw formatError(`format is "${meta.format}", expected "${STORE_FORMAT}"`, { file, field: 'format' });
  if (meta.version !== 1)
    throw formatError(`version ${meta.version} is not supported (expected 1)`, { file, field: 'version' });
  return meta;
}

function checkSameSettings(dir: string, meta: StoreMeta, settings: StoreSettings): void {
  const stable = (v: unknown) => JSON.stringify(v);
  const was: Record<string, unknown> = {
    ...meta.settings,
    dtype: meta.dtype,
    layers: meta.layers,
    groups: meta.groups,
    model: meta.model,
    attributes: meta.attributes,
  };
  const now: Record<string, unknown> = {
    ...settings.settings,
    dtype: settings.dtype,
    layers: settings.layers,
    groups: settings.groups,
    model: settings.model,
    attributes: settings.attributes,
  };
  for (const key of new Set([...Object.keys(was), ...Object.keys(now)]))
    if (stable(was[key]) !== stable(now[key]))
      throw inputError(`--resume with different settings: ${key} was ${stable(was[key])}, now ${stable(now[key])}`, {
        file: metaPath(dir),
        field: key,
      });
}

/** Reads a store: its items (all at once or streamed) and one layer's states as a matrix. */
export class RepresentationStore {
  private cachedItems: StoredItem[] | null = null;

  private constructor(
    readonly dir: string,
    readonly meta: StoreMeta,
  ) {}

  static open(dir: string): RepresentationStore {
    if (!existsSync(dir)) throw inputError('folder not found', { file: dir });
    return new RepresentationStore(dir, readMeta(dir));
  }

  /** Every finished item (a torn last line, from a run still writing or killed, is ignored). */
  items(): StoredItem[] {
    if (!this.cachedItems) {
      const text = readFileSync(indexPath(this.dir), 'utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      this.cachedItems = complete ? parseIndex(complete, indexPath(this.dir)) : [];
    }
    return this.cachedItems;
  }

  /** Items one at a time, without holding the index in memory. */
  async *streamItems(): AsyncGenerator<StoredItem> {
    const lines = createInterface({ input: createReadStream(indexPath(this.dir)), crlfDelay: Infinity });
    let pending: string | null = null;
    for await (const line of lines) {
      if (pending !== null) yield JSON.parse(pending) as StoredItem;
      pending = line.trim() ? line : null;
    }
    if (pending !== null) {
      try {
        yield JSON.parse(pending) as StoredItem;
      } catch {
        /* torn final line of a run still writing */
      }
    }
  }

  /**
   * The states of one group and layer for the first `rows` items (default: all finished),
   * read in chunks and widened to float32.
   */
  readLayer(group: string, layer: number, rows = this.items().length): Matrix {
    const { hiddenSize, dtype } = this.meta;
    if (!this.meta.groups.includes(group))
      throw inputError(`store has no "${group}" states (it has: ${this.meta.groups.join(', ')})`, { file: this.dir });
    if (!this.meta.layers.includes(layer))
      throw inputError(`store has no layer ${layer} (it has: ${this.meta.layers.join(', ')})`, {
        file: this.dir,
        field: 'layers',
      });
    const file = statePath(this.dir, group, layer);
    const per = bytesPerValue(dtype);
    const out = matrix(rows, hiddenSize);
    const fd = openSync(file, 'r');
    try {
      const available = fstatSync(fd).size / (hiddenSize * per);
      const indexed = this.items().length;
      // rows are written before their item's index line: more rows than items means a run still
      // writing or killed mid-item, whose rows cannot be trusted to line up with the items
      if (available !== indexed)
        throw formatError(
          `holds ${Number.isInteger(available) ? available : available.toFixed(2)} rows but ${indexed} items are indexed; ${available > indexed ? 'a collection is still running or was killed mid-item (finish it with probe collect --resume)' : 'the store is damaged'}`,
          { file },
        );
      const chunkRows = Math.max(1, Math.floor((4 << 20) / (hiddenSize * per)));
      const buffer = Buffer.allocUnsafe(chunkRows * hiddenSize * per);
      for (let start = 0; start < rows; start += chunkRows) {
        const n = Math.min(chunkRows, rows - start);
        const bytes = n * hiddenSize * per;
        let read = 0;
        while (read < bytes) {
          const got = readSync(fd, buffer, read, bytes - read, start * hiddenSize * per + read);
          if (got === 0) throw formatError('ended early while reading states', { file });
          read += got;
        }
        const target = out.data.subarray(start * hiddenSize, (start + n) * hiddenSize);
        const aligned = new Uint8Array(bytes);
        aligned.set(buffer.subarray(0, bytes));
        if (dtype === 'float16') target.set(float16ToFloat32(new Uint16Array(aligned.buffer)));
        else target.set(new Float32Array(aligned.buffer));
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }
}

function parseIndex(text: string, file: string): StoredItem[] {
  const items: StoredItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      items.push(JSON.parse(line));
    } catch (e) {
      throw formatError(`malformed JSON (${(e as Error).message})`, { file, line: i + 1 });
    }
  });
  return items;
}

/** True when `dir` holds a representation store. */
export const isStore = (dir: string) => existsSync(metaPath(dir));
