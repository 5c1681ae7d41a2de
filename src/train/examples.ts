/** Tokenized training examples, as the data readers produce them and the objectives consume them. */

export interface Provenance {
  /** the data file and 1-based line the example came from */
  file: string;
  line: number;
  /** true when the example was cut to fit the maximum length */
  truncated: boolean;
}

/** A prompt and the response trained on (EOS included); only response tokens are scored. */
export interface SftExample extends Provenance {
  promptIds: number[];
  responseIds: number[];
}

/** A prompt with a preferred and a dispreferred response (each with EOS). */
export interface PreferencePair extends Provenance {
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  /** summed reference log-probs of the responses (DPO), filled in before training */
  refChosen?: number;
  refRejected?: number;
  /** the original texts, for objectives that compute margins on text */
  text?: { prompt: string; chosen: string; rejected: string };
}

export const sftLength = (e: SftExample) => e.promptIds.length + e.responseIds.length;
export const pairLength = (p: PreferencePair) =>
  p.promptIds.length + Math.max(p.chosenIds.length, p.rejectedIds.length);
