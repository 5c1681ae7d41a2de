/**
 * What loading a model decided that its user should hear once: a GGUF file's tensor types and how
 * each is held, a graph flavour or step runtime that fell back. Nothing below cli/ prints, and
 * models are loaded deep inside many commands (run sessions, evaluations, the gateway), so the
 * loader announces its notes here and the CLI listens once for every command.
 */
export type ModelNoteListener = (model: string, note: string) => void;

const listeners = new Set<ModelNoteListener>();

/** Hears every note of every model loaded from now on; returns the function that stops listening. */
export function listenToModelNotes(listener: ModelNoteListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function announceModelNotes(model: string, notes: readonly string[]): void {
  for (const note of notes) for (const listener of listeners) listener(model, note);
}
