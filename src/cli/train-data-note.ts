import type { DataStats } from '../train/data/load-sft.ts';

/** One line per data file: examples read and how many were cut to fit the maximum length. */
export function dataNote(train: DataStats, evalStats: DataStats | undefined, maxLength: number): void {
  for (const s of [train, evalStats]) {
    if (!s) continue;
    const cut = s.truncated ? `, ${s.truncated} truncated to ${maxLength} tokens (prompt cut from the left)` : '';
    console.error(`${s.file}: ${s.examples} examples${cut}`);
  }
}
