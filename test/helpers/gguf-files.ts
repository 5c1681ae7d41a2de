/** GGUF test files: a toy vocabulary, metadata edits of a written file. */
import type { GgufVocabulary } from '../../src/models/gguf/gguf-vocabulary.ts';
import { GgufFile, type GgufEntry } from '../../src/models/gguf/gguf-file.ts';
import { writeGgufFile } from '../../src/models/gguf/gguf-writer.ts';

/** A byte-level vocabulary of `n` distinct tokens (enough for weight round trips). */
export function toyVocabulary(n: number, bosId = 1, eosId = 2): GgufVocabulary {
  return {
    model: 'gpt2',
    pre: 'gpt-2',
    tokens: Array.from({ length: n }, (_, i) => `t${i}`),
    scores: null,
    tokenTypes: new Int32Array(n).fill(1),
    merges: [],
    bosId,
    eosId,
    unkId: null,
    padId: null,
    addBos: false,
    addEos: false,
    chatTemplate: null,
  };
}

/** A copy of `file` with its metadata edited and its tensors as they are. */
export function rewriteMetadata(file: string, out: string, edit: (m: Map<string, GgufEntry>) => void): string {
  const g = GgufFile.open(file);
  try {
    const metadata = new Map(g.metadata);
    edit(metadata);
    const tensors = [...g.tensors.values()].map((t) => ({
      name: t.name,
      dims: t.dims,
      type: t.type,
      encode: () => g.readRaw(t.name),
    }));
    writeGgufFile(out, metadata, tensors);
    return out;
  } finally {
    g.close();
  }
}
