/**
 * The gateway over models named by reference: loads each (one instance per reference and
 * tokenizer, shared by plain and guided entries), wraps guided configurations, and starts the
 * server. `alignkit serve` and the library's `serve` both come here; `close` stops the server
 * (letting requests in flight finish) and frees the models it loaded.
 */
import type { LanguageModel } from '../lm/language-model.ts';
import { inputError } from '../errors.ts';
import { ModelPool } from '../run/model-pool.ts';
import { parseGuidedConfig, readGuidedConfig, type GuidedConfig } from './guided-config.ts';
import { loadGuidedModel } from './guided-model.ts';
import { startGateway, type Gateway } from './http-server.ts';
import { DEFAULT_LIMITS, type GatewayLimits } from './limits.ts';
import { serveModel, type ServedModel } from './served-model.ts';

/** What the gateway serves, by name, and how. */
export interface OpenGatewayOptions {
  /** plain models by served name: a local path, `BASE_URL#MODEL`, or a model already loaded (which stays the caller's) */
  models?: Readonly<Record<string, string | LanguageModel>>;
  /** guided models by served name: a YAML/JSON file as `alignkit serve --guided` takes it, or the parsed configuration */
  guided?: Readonly<
    Record<string, string | (Omit<GuidedConfig, 'settings'> & { settings?: GuidedConfig['settings'] })>
  >;
  /** default 127.0.0.1 */
  host?: string;
  /** default 8000; 0 picks a free port */
  port?: number;
  /** when set, every route but /health needs `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  limits?: Partial<GatewayLimits>;
  /** origins browser pages may call from (`*` for any); default none */
  allowedOrigins?: readonly string[];
  /** tokenizer of local checkpoints that have none beside them */
  tokenizer?: string;
  /** environment variable with the API key of served remote models */
  upstreamApiKeyEnv?: string;
  /** on-disk response cache of remote models */
  cacheDir?: string;
}

/** A running gateway that also frees the models it loaded when closed. */
export interface OpenGateway extends Gateway {
  /** Graceful stop (requests in flight may finish for `graceMs`), then the loaded models are freed. */
  close(graceMs?: number): Promise<void>;
}

/** Loads the models, wraps the guided ones and starts the server; resolves once it listens. */
export async function openGateway(options: OpenGatewayOptions): Promise<OpenGateway> {
  const plain = Object.entries(options.models ?? {});
  const guided = Object.entries(options.guided ?? {});
  if (!plain.length && !guided.length)
    throw inputError('nothing to serve: give at least one model (a NAME=REF) or guided model (a NAME=CONFIG)');
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const pool = new ModelPool({
    tokenizer: options.tokenizer,
    apiKeyEnv: options.upstreamApiKeyEnv,
    cacheDir: options.cacheDir,
  });
  const served: ServedModel[] = [];
  let gateway: Gateway;
  try {
    for (const [name, ref] of plain)
      served.push(
        serveModel(name, typeof ref === 'string' ? await pool.load(ref) : ref, {
          maxBatchSequences: limits.maxBatchSequences,
        }),
      );
    for (const [name, config] of guided) {
      const parsed =
        typeof config === 'string' ? readGuidedConfig(config) : parseGuidedConfig(config, `guided ${name}`);
      served.push(serveModel(name, await loadGuidedModel(name, parsed, pool.load)));
    }
    gateway = await startGateway({
      models: served,
      host: options.host,
      port: options.port,
      apiKey: options.apiKey,
      limits,
      allowedOrigins: options.allowedOrigins,
    });
  } catch (e) {
    await pool.dispose();
    throw e;
  }
  return Object.assign(gateway, {
    async close(graceMs?: number) {
      await gateway.shutdown(graceMs);
      await pool.dispose();
    },
  });
}
