/**
 * Where a server's routes live. OpenAI routes hang off the API base (`…/v1`); vLLM's and
 * SGLang's `/tokenize`, `/detokenize` and `/generate` live at the server root.
 */
export interface ServerUrls {
  /** base of the OpenAI routes, e.g. http://host:8000/v1 */
  apiBase: string;
  /** server root, e.g. http://host:8000 */
  root: string;
}

export function serverUrls(baseUrl: string): ServerUrls {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const apiPath = path === '' ? '/v1' : path;
  const rootPath = apiPath.replace(/\/v\d+$/, '');
  return { apiBase: url.origin + apiPath, root: url.origin + rootPath };
}
