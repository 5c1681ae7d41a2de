/** `alignkit serve`: the OpenAI-compatible gateway over native, remote and guided models. */
import { inputError } from '../errors.ts';
import { DEFAULT_LIMITS, type GatewayLimits } from '../serve/limits.ts';
import type { OpenGatewayOptions } from '../serve/open-gateway.ts';
import type { OptionValues } from '../util/option-spec.ts';
import { command } from './command-spec.ts';

const LIMITS = 'limits';

function namedRefs(items: readonly string[], flag: string): { name: string; ref: string }[] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1)
      throw inputError(`--${flag} expects NAME=${flag === 'guided' ? 'CONFIG' : 'REF'}, got "${item}"`);
    return { name: item.slice(0, eq), ref: item.slice(eq + 1) };
  });
}

const limit = (description: string, fallback: number) =>
  ({ type: 'integer', min: 1, default: fallback, group: LIMITS, description }) as const;

export const serveCommand = command({
  name: 'serve',
  summary: 'OpenAI-compatible gateway',
  description:
    'Serves models behind an OpenAI-compatible API (/v1/models, /v1/completions, /v1/chat/completions, /v1/responses, /tokenize, /health): native models with continuous batching, remote ones passed through, and guided models — a steering method over several models, configured in a YAML/JSON file — that clients call like any model. SIGTERM finishes the requests in flight.',
  examples: [
    'serve --port 8000 --model stories=data/stories260K/stories260K.bin --tokenizer data/stories260K/tok512.bin --guided happy=guided.yaml',
  ],
  options: {
    model: {
      type: 'string',
      repeatable: true,
      placeholder: 'NAME=REF',
      description: 'a model served under NAME: a local path or BASE_URL#MODEL',
    },
    guided: {
      type: 'string',
      repeatable: true,
      placeholder: 'NAME=CONFIG',
      description:
        'a guided model: a YAML/JSON file with method, models and settings (the steer flags of that method, camelCase)',
    },
    port: { type: 'integer', min: 0, max: 65535, default: 8000, description: 'port (0 = any free one)' },
    host: { type: 'string', default: '127.0.0.1', description: 'address to listen on' },
    apiKeyEnv: {
      type: 'string',
      placeholder: 'VAR',
      description: 'environment variable holding the key clients must send as bearer token (default: no auth)',
    },
    tokenizer: {
      type: 'string',
      placeholder: 'PATH',
      description: 'tokenizer of local checkpoints that have none beside them',
    },
    upstreamApiKeyEnv: {
      type: 'string',
      placeholder: 'VAR',
      description: 'environment variable with the API key of served remote models',
    },
    cacheDir: { type: 'string', placeholder: 'DIR', description: 'on-disk response cache of remote models' },
    maxTokens: limit('max_tokens of one request', DEFAULT_LIMITS.maxTokens),
    maxConcurrent: limit('requests served at once', DEFAULT_LIMITS.maxConcurrent),
    maxQueue: limit('requests waiting for a slot; more get 429', DEFAULT_LIMITS.maxQueue),
    maxBatch: limit('sequences decoded together by a native model', DEFAULT_LIMITS.maxBatchSequences),
    maxBodyBytes: limit('request body size', DEFAULT_LIMITS.maxBodyBytes),
    maxLogprobs: limit(
      "top log-probs per position, at most (within the specification's own limits: 5 for completions' logprobs, 20 for chat's top_logprobs)",
      DEFAULT_LIMITS.maxLogprobs,
    ),
    maxN: limit('choices per request (n; the specification allows 128)', DEFAULT_LIMITS.maxN),
    maxPrompts: limit('prompts in one completions request', DEFAULT_LIMITS.maxPrompts),
    requestTimeoutMs: limit(
      'per-request time limit (ms), upload included (a body still arriving then gets 408)',
      DEFAULT_LIMITS.requestTimeoutMs,
    ),
    allowedOrigins: {
      type: 'string',
      placeholder: 'ORIGINS',
      description:
        'origins whose pages may call the gateway (CORS): a JSON list as vLLM takes it, a comma-separated list, or * (default: none)',
    },
    shutdownGraceMs: {
      type: 'integer',
      min: 0,
      default: 30_000,
      group: LIMITS,
      description: 'on SIGTERM/SIGINT, how long requests in flight may finish (ms)',
    },
  },
  async run(values) {
    const { openGateway } = await import('../serve/open-gateway.ts');
    const plain = namedRefs(values.model, 'model');
    const guided = namedRefs(values.guided, 'guided');
    if (!plain.length && !guided.length)
      throw inputError('nothing to serve: give at least one --model NAME=REF or --guided NAME=CONFIG');
    const settings = await gatewaySettings(values);
    const gateway = await openGateway({
      ...settings,
      models: Object.fromEntries(plain.map(({ name, ref }) => [name, ref])),
      guided: Object.fromEntries(guided.map(({ name, ref }) => [name, ref])),
    });
    console.log(
      `alignkit serve: listening on ${gateway.url} (models: ${gateway.models.names.join(', ')}${settings.apiKey ? '; bearer auth on' : ''}${settings.allowedOrigins?.length ? `; CORS for ${settings.allowedOrigins.join(', ')}` : ''})`,
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        console.log(`alignkit serve: ${signal}, finishing ${gateway.stats().inFlight} request(s) in flight`);
        gateway.close(values.shutdownGraceMs).then(resolve, resolve);
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    console.log('alignkit serve: stopped');
    return 0;
  },
});

/** The gateway settings of `serve`'s flags (all but the models), as openGateway takes them (the library API calls this too). */
export async function gatewaySettings(
  values: Omit<OptionValues<typeof serveCommand.options>, 'model' | 'guided' | 'shutdownGraceMs'>,
): Promise<Omit<OpenGatewayOptions, 'models' | 'guided'>> {
  const { parseAllowedOrigins } = await import('../serve/cors.ts');
  let apiKey: string | undefined;
  if (values.apiKeyEnv !== undefined) {
    apiKey = process.env[values.apiKeyEnv];
    if (!apiKey)
      throw inputError(`environment variable ${values.apiKeyEnv} (named by --api-key-env) is not set or empty`);
  }
  const limits: GatewayLimits = {
    maxTokens: values.maxTokens,
    maxConcurrent: values.maxConcurrent,
    maxQueue: values.maxQueue,
    maxBatchSequences: values.maxBatch,
    maxBodyBytes: values.maxBodyBytes,
    maxLogprobs: values.maxLogprobs,
    requestTimeoutMs: values.requestTimeoutMs,
    maxN: values.maxN,
    maxPrompts: values.maxPrompts,
  };
  let allowedOrigins: string[] = [];
  if (values.allowedOrigins !== undefined) {
    try {
      allowedOrigins = parseAllowedOrigins(values.allowedOrigins);
    } catch (e) {
      throw inputError((e as Error).message, { field: '--allowed-origins' });
    }
  }
  return {
    host: values.host,
    port: values.port,
    apiKey,
    limits,
    allowedOrigins,
    tokenizer: values.tokenizer,
    upstreamApiKeyEnv: values.upstreamApiKeyEnv,
    cacheDir: values.cacheDir,
  };
}
