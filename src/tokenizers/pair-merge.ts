/**
 * Greedy pair merging, the core of BPE-style encoders: repeatedly replace the adjacent pair with
 * the best (lowest) priority by its merged symbol; among equal priorities the leftmost pair wins.
 * A heap over candidate pairs makes this O(n log n) instead of the O(n²) rescans of llama2.c,
 * with the same result.
 */
import { BinaryHeap } from './binary-heap.ts';

export interface PairMerge {
  /** lower merges first */
  priority: number;
  merged: number;
}

/** Returns the merge for (left, right), or undefined when the pair never merges. */
export type PairLookup = (left: number, right: number) => PairMerge | undefined;

export function mergePairs(symbols: readonly number[], lookup: PairLookup): number[] {
  const n = symbols.length;
  if (n < 2) return symbols.slice();
  const sym = Int32Array.from(symbols);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const alive = new Uint8Array(n).fill(1);
  const heap = new BinaryHeap<Candidate>(before);
  const offer = (pos: number) => {
    const right = next[pos];
    if (right < 0) return;
    const m = lookup(sym[pos], sym[right]);
    if (m) heap.push({ priority: m.priority, pos, left: sym[pos], right: sym[right], merged: m.merged });
  };
  for (let i = 0; i + 1 < n; i++) offer(i);

  while (heap.size > 0) {
    const c = heap.pop();
    const right = next[c.pos];
    // Lazy deletion: skip candidates whose symbols changed since they were offered.
    if (!alive[c.pos] || right < 0 || sym[c.pos] !== c.left || sym[right] !== c.right) continue;
    sym[c.pos] = c.merged;
    alive[right] = 0;
    next[c.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.pos;
    if (prev[c.pos] >= 0) offer(prev[c.pos]);
    offer(c.pos);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
  return out;
}

interface Candidate {
  priority: number;
  pos: number;
  left: number;
  right: number;
  merged: number;
}

/** Lower priority first, then the leftmost. */
function before(a: Candidate, b: Candidate): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.pos < b.pos);
}
