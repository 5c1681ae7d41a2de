import { inputError } from '../errors.ts';

/**
 * A model reference: a local path (native in-process backend) or `BASE_URL#MODEL_NAME`
 * (an OpenAI-compatible server). This is the one place that tells them apart.
 */
export type ModelRef = { kind: 'openai'; baseUrl: string; model: string } | { kind: 'local'; path: string };

const REMOTE_EXAMPLE = 'http://localhost:8000/v1#my-model';

export function isRemoteRef(ref: string): boolean {
  return /^https?:\/\//i.test(ref.trim());
}

export function parseModelRef(ref: string): ModelRef {
  const trimmed = ref.trim();
  if (!trimmed) throw inputError('empty model reference (expected a local path or BASE_URL#MODEL_NAME)');
  if (!isRemoteRef(trimmed)) return { kind: 'local', path: trimmed };
  const hash = trimmed.indexOf('#');
  if (hash < 0)
    throw inputError(
      `remote model reference "${trimmed}" has no model name (expected BASE_URL#MODEL_NAME, e.g. ${REMOTE_EXAMPLE})`,
    );
  const base = trimmed.slice(0, hash);
  const model = trimmed.slice(hash + 1);
  if (!model)
    throw inputError(
      `remote model reference "${trimmed}" has an empty model name after "#" (expected e.g. ${REMOTE_EXAMPLE})`,
    );
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw inputError(
      `remote model reference "${trimmed}": "${base}" is not a valid URL (expected e.g. ${REMOTE_EXAMPLE})`,
    );
  }
  if (url.search) throw inputError(`remote model reference "${trimmed}": the base URL must not have a query string`);
  return { kind: 'openai', baseUrl: url.origin + url.pathname.replace(/\/+$/, ''), model };
}
