/**
 * Preference data in TRL's standard (non-conversational) format, one JSON object a line:
 * {"prompt", "chosen", "rejected"}. TRL's DPOTrainer reads it with
 * `load_dataset("json", data_files=...)`; the extra score/length columns are ignored by it and
 * kept for inspection. alignkit's own `train dpo` reads the same file.
 */
import { writeFileAtomic } from '../util/atomic-write.ts';

export interface TrlPreference {
  prompt: string;
  chosen: string;
  rejected: string;
  score_chosen?: number;
  score_rejected?: number;
  length_chosen?: number;
  length_rejected?: number;
}

export function writeTrlPreferences(path: string, rows: readonly TrlPreference[]): void {
  writeFileAtomic(path, rows.map((r) => JSON.stringify(r) + '\n').join(''));
}
