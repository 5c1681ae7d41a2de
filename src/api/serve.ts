/**
 * The gateway as a library (`alignkit/serve`): an OpenAI-compatible HTTP server over native,
 * remote and guided models, started from a program instead of `alignkit serve`.
 */
import type { LanguageModel } from '../lm/language-model.ts';
import type { GuidedConfig } from '../serve/guided-config.ts';
import type { OpenGateway } from '../serve/open-gateway.ts';
import { checkOptions } from './check-options.ts';
import type { ServeSettings } from './option-types.ts';

/**
 * A guided model as `alignkit serve --guided` reads it from YAML/JSON: a steering method, the
 * models of its roles (paths or BASE_URL#MODEL), and its settings (the flags of
 * `alignkit steer <method>`, camelCase; `formats` for how each model sees the prompt).
 */
export type GuidedModelConfig = Omit<GuidedConfig, 'settings'> & { settings?: GuidedConfig['settings'] };

/** What `serve` serves, by name, and how (the flags of `alignkit serve`). */
export interface ServeOptions extends ServeSettings {
  /** plain models by served name: a local path, `BASE_URL#MODEL`, or a model already loaded (it stays yours to dispose) */
  models?: Readonly<Record<string, string | LanguageModel>>;
  /**
   * guided models by served name: a YAML/JSON file as `alignkit serve --guided` takes it, or the
   * same configuration as an object ({ method, models, settings })
   */
  guided?: Readonly<Record<string, string | GuidedModelConfig>>;
}

/**
 * Starts the gateway and resolves once it listens (`port: 0` picks a free port; see `url`).
 * `close()` lets requests in flight finish, stops it and frees the models it loaded.
 */
export async function serve(options: ServeOptions): Promise<OpenGateway> {
  const { gatewaySettings } = await import('../cli/serve.ts');
  const { openGateway } = await import('../serve/open-gateway.ts');
  const { values, rest } = await checkOptions('ServeSettings', 'serve', options, ['models', 'guided']);
  const settings = await gatewaySettings(values as Parameters<typeof gatewaySettings>[0]);
  return openGateway({
    ...settings,
    models: rest.models as ServeOptions['models'],
    guided: rest.guided as ServeOptions['guided'],
  });
}

/** The same as `serve`, by the name Node's `http.createServer` users look for. */
export const createServer = serve;

export type { OpenGateway, ServeSettings };
