import { parseFlags, intFlag } from './args.ts';
import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import { loadModel } from '../lm/load.ts';
import { loadGuidedModel } from '../serve/guided-model.ts';
import { readGuidedConfig } from '../serve/guided-config.ts';
import { startGateway } from '../serve/http-server.ts';
import { DEFAULT_LIMITS, type GatewayLimits } from '../serve/limits.ts';
import { serveModel, type ServedModel } from '../serve/served-model.ts';

const USAGE = `usage: alignkit serve --model NAME=REF [--model NAME=REF ...] [--guided NAME=CONFIG ...]
                      [--port 8000] [--host 127.0.0.1] [--api-key-env VAR] [--tokenizer PATH]
                      [--upstream-api-key-env VAR] [--cache-dir DIR] [--max-tokens N] [--max-concurrent N]
                      [--max-queue N] [--max-batch N] [--max-body-bytes N] [--max-logprobs N]
                      [--request-timeout-ms MS] [--shutdown-grace-ms MS]`;

function namedRefs(values: Record<string, any>, flag: string): { name: string; ref: string }[] {
  const items: string[] = values[flag] === undefined ? [] : Array.isArray(values[flag]) ? values[flag] : [values[flag]];
  return items.map((item) => {
    const eq = String(item).indexOf('=');
    if (eq <= 0 || eq === String(item).length - 1)
      throw inputError(`--${flag} expects NAME=${flag === 'guided' ? 'CONFIG' : 'REF'}, got "${item}"`);
    return { name: String(item).slice(0, eq), ref: String(item).slice(eq + 1) };
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string', multiple: true },
    guided: { type: 'string', multiple: true },
    port: { type: 'string' },
    host: { type: 'string' },
    'api-key-env': { type: 'string' },
    tokenizer: { type: 'string' },
    'upstream-api-key-env': { type: 'string' },
    'cache-dir': { type: 'string' },
    'max-tokens': { type: 'string' },
    'max-concurrent': { type: 'string' },
    'max-queue': { type: 'string' },
    'max-batch': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'max-logprobs': { type: 'string' },
    'request-timeout-ms': { type: 'string' },
    'shutdown-grace-ms': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const plain = namedRefs(values, 'model');
  const guided = namedRefs(values, 'guided');
  if (!plain.length && !guided.length)
    throw inputError(`nothing to serve: give at least one --model NAME=REF or --guided NAME=CONFIG\n${USAGE}`);

  let apiKey: string | undefined;
  if (values['api-key-env'] !== undefined) {
    apiKey = process.env[values['api-key-env']];
    if (!apiKey)
      throw inputError(`environment variable ${values['api-key-env']} (named by --api-key-env) is not set or empty`);
  }
  const limits: GatewayLimits = {
    maxTokens: intFlag(values, 'max-tokens', DEFAULT_LIMITS.maxTokens),
    maxConcurrent: intFlag(values, 'max-concurrent', DEFAULT_LIMITS.maxConcurrent),
    maxQueue: intFlag(values, 'max-queue', DEFAULT_LIMITS.maxQueue),
    maxBatchSequences: intFlag(values, 'max-batch', DEFAULT_LIMITS.maxBatchSequences),
    maxBodyBytes: intFlag(values, 'max-body-bytes', DEFAULT_LIMITS.maxBodyBytes),
    maxLogprobs: intFlag(values, 'max-logprobs', DEFAULT_LIMITS.maxLogprobs),
    requestTimeoutMs: intFlag(values, 'request-timeout-ms', DEFAULT_LIMITS.requestTimeoutMs),
    maxN: DEFAULT_LIMITS.maxN,
    maxPrompts: DEFAULT_LIMITS.maxPrompts,
    maxStop: DEFAULT_LIMITS.maxStop,
  };
  for (const [key, v] of Object.entries(limits))
    if (!(v > 0)) throw inputError(`limit ${key} must be positive, got ${v}`);

  // one instance per (reference, tokenizer), shared by plain and guided entries
  const loaded = new Map<string, Promise<LanguageModel>>();
  const load = (ref: string, tokenizer = values.tokenizer as string | undefined) => {
    const key = `${ref}\u0000${tokenizer ?? ''}`;
    if (!loaded.has(key)) {
      loaded.set(
        key,
        loadModel(ref, { tokenizer, apiKeyEnv: values['upstream-api-key-env'], cacheDir: values['cache-dir'] }),
      );
    }
    return loaded.get(key)!;
  };
  const served: ServedModel[] = [];
  const disposeAll = async () => {
    for (const m of loaded.values())
      await m.then(
        (model) => model.dispose(),
        () => undefined,
      );
  };
  try {
    for (const { name, ref } of plain)
      served.push(serveModel(name, await load(ref), { maxBatchSequences: limits.maxBatchSequences }));
    for (const { name, ref } of guided) {
      served.push(serveModel(name, await loadGuidedModel(name, readGuidedConfig(ref), load), { guided: true }));
    }
  } catch (e) {
    await disposeAll();
    throw e;
  }

  const gateway = await startGateway({
    models: served,
    host: values.host,
    port: intFlag(values, 'port', 8000),
    apiKey,
    limits,
  });
  console.log(
    `alignkit serve: listening on ${gateway.url} (models: ${gateway.models.names.join(', ')}${apiKey ? '; bearer auth on' : ''})`,
  );
  const graceMs = intFlag(values, 'shutdown-grace-ms', 30_000);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      console.log(`alignkit serve: ${signal}, finishing ${gateway.stats().inFlight} request(s) in flight`);
      gateway.shutdown(graceMs).then(resolve, resolve);
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await disposeAll();
  console.log('alignkit serve: stopped');
  return 0;
}
