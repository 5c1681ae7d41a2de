/**
 * The playground page: the steering methods side by side on the embedded models (or a model the
 * user picks from disk), in the browser tab. Everything runs here, on onnxruntime-web; picked
 * files are read into the page's memory and never sent anywhere.
 */
import {
  AlignkitError,
  STEER_METHODS,
  abortStepsOn,
  configureWebRuntime,
  hasScalarHead,
  loadNativeModel,
  mountFile,
  runSteerMethod,
  sentimentReward,
  steerMethodNamed,
  unmount,
  valueModelFromHead,
  webRuntime,
  STEP_RUNTIMES,
  type StepRuntime,
  type NativeModel,
  type SteerModels,
} from '../browser-core.ts';
import { configProblem, fileSizeProblem, ggufProblem, parameterCount } from './memory-budget.ts';
import type { PlaygroundManifest } from '../manifest.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ROLES = ['large', 'tuned', 'untuned', 'base', 'aligned', 'value'] as const;
type Role = (typeof ROLES)[number];

/** Loaded models by name, in the order they were added. */
const models = new Map<string, NativeModel>();
/** where each model's files are mounted (a speed measurement loads a second copy) */
const modelPaths = new Map<string, string>();
/** what runs the models' steps (`?runtime=`): `auto` = alignkit's WebAssembly decode kernel for small llama-family models, onnxruntime-web otherwise */
let stepRuntime: StepRuntime = 'auto';

const runsOn = (m: NativeModel) =>
  m.stepRuntime === 'wasm' ? "alignkit's WebAssembly kernel (decode) + onnxruntime-web" : 'onnxruntime-web';
let running: AbortController | null = null;

function setState(state: 'loading' | 'ready' | 'running'): void {
  document.body.dataset.state = state;
  $<HTMLButtonElement>('run').disabled = state !== 'ready';
  $<HTMLButtonElement>('stop').disabled = state !== 'running';
}

/** A message in the page (errors name the file and the problem); the page keeps working. */
function message(text: string, kind: 'error' | 'info' = 'error'): void {
  const item = document.createElement('li');
  item.className = `message ${kind}`;
  item.textContent = text;
  $('messages').prepend(item);
}

const describe = (e: unknown) =>
  e instanceof AlignkitError || e instanceof Error ? e.message : `unexpected error: ${String(e)}`;

function refreshModelLists(): void {
  const list = $('models');
  list.replaceChildren(
    ...[...models].map(([name, m]) => {
      const li = document.createElement('li');
      const params = parameterCount(m.config) / 1e6;
      li.textContent = `${name}: ${m.config.architecture}, ${m.config.numLayers} layers, hidden ${m.config.hiddenSize}, vocabulary ${m.config.vocabSize} (≈${params.toFixed(2)} M parameters)${hasScalarHead(m) ? ', value head' : ''}; steps on ${runsOn(m)}`;
      return li;
    }),
  );
  for (const role of ROLES) {
    const select = $<HTMLSelectElement>(`role-${role}`);
    const previous = select.value;
    const names = [...models.keys()].filter((n) => role !== 'value' || hasScalarHead(models.get(n)!));
    select.replaceChildren(new Option('(none)', ''), ...names.map((n) => new Option(n, n)));
    if (names.includes(previous)) select.value = previous;
  }
  refreshMethods();
}

function modelFor(role: Role): NativeModel | undefined {
  const name = $<HTMLSelectElement>(`role-${role}`).value;
  return name ? models.get(name) : undefined;
}

/** Methods whose models are missing are disabled, with the reason as their tooltip. */
function refreshMethods(): void {
  for (const box of document.querySelectorAll<HTMLInputElement>('input[name=method]')) {
    const method = steerMethodNamed(box.value);
    const missing = method
      .requires(settings())
      .filter((alternatives) => !alternatives.some((r) => r === 'reward' || modelFor(r as Role)))
      .map((alternatives) => alternatives.join(' or '));
    box.disabled = missing.length > 0;
    if (box.disabled) box.checked = false;
    box.parentElement!.title = missing.length ? `needs a ${missing.join(' and a ')} model` : method.summary;
  }
}

const numberOf = (id: string): number | undefined => {
  const raw = $<HTMLInputElement>(id).value.trim();
  return raw === '' ? undefined : Number(raw);
};

/** The knobs as the methods' settings (blank = the method's default). */
function settings(): Record<string, unknown> {
  const chunk = $<HTMLInputElement>('chunk-length').value.trim();
  return Object.fromEntries(
    Object.entries({
      beams: numberOf('beams'),
      successors: numberOf('successors'),
      chunkLength: chunk === 'inf' ? Infinity : chunk === '' ? undefined : Number(chunk),
      beta: numberOf('beta'),
      n: numberOf('n'),
      alpha: numberOf('alpha'),
    }).filter(([, v]) => v !== undefined),
  );
}

/** Reads picked files into the page's file tree, checking first that the model can fit in memory. */
async function mountPicked(files: { path: string; file: File }[]): Promise<void> {
  // config.json first: it says how large the model is before any weights are read
  const ordered = [...files].sort(
    (a, b) => Number(b.path.endsWith('/config.json')) - Number(a.path.endsWith('/config.json')),
  );
  for (const { path, file } of ordered) {
    const tooLarge = fileSizeProblem(path, file.size);
    if (tooLarge) throw new Error(tooLarge);
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (path.split('/').length === 4 && path.endsWith('/config.json')) {
      const problem = configProblem(path, new TextDecoder().decode(bytes));
      if (problem) throw new Error(problem);
    }
    mountFile(path, bytes);
  }
}

async function addModel(name: string, path: string): Promise<void> {
  const old = models.get(name);
  models.delete(name);
  await old?.dispose();
  const model = await loadNativeModel(path, undefined, { runtime: stepRuntime });
  // one short generation while the page says it is loading: onnxruntime-web's first run of a
  // session (planning, first-touch WebAssembly) took seconds, which would otherwise land on Run
  await model.sample({ prompt: [...model.tokenizer.encode('The', { addBos: true })], maxNewTokens: 2, temperature: 0 });
  models.set(name, model);
  modelPaths.set(name, path);
}

/** A picked HF directory is mounted at /picked/DIR/…, a GGUF file at /picked/FILE; messages name those paths. */
async function loadPicked(kind: 'directory' | 'gguf', picked: FileList): Promise<void> {
  if (picked.length === 0) return;
  setState('loading');
  const first = picked[0];
  const name = kind === 'gguf' ? first.name : first.webkitRelativePath.split('/')[0] || first.name;
  const root = `/picked/${name}`;
  try {
    const files = [...picked].map((file) => ({
      path: kind === 'gguf' ? root : `/picked/${file.webkitRelativePath}`,
      file,
    }));
    unmount(root);
    await mountPicked(files);
    const tooLarge = kind === 'gguf' ? ggufProblem(root) : null;
    if (tooLarge) throw new Error(tooLarge);
    await addModel(name, root);
    message(`loaded ${name}`, 'info');
    refreshModelLists();
  } catch (e) {
    unmount(root);
    message(describe(e));
  } finally {
    setState('ready');
  }
}

interface Pane {
  root: HTMLElement;
  set(field: 'text' | 'tps' | 'processed' | 'gold' | 'status', value: string): void;
}

function pane(method: string): Pane {
  const root = document.createElement('section');
  root.className = 'pane';
  root.dataset.method = method;
  root.innerHTML = `<h3></h3><p class="text"></p><dl>
    <dt>tokens/s</dt><dd class="tps">–</dd><dt>model tokens processed</dt><dd class="processed">–</dd>
    <dt>gold reward</dt><dd class="gold">–</dd></dl><p class="status">waiting</p>`;
  root.querySelector('h3')!.textContent = method;
  $('results').append(root);
  return {
    root,
    set: (field, value) => {
      root.querySelector(`.${field}`)!.textContent = value;
    },
  };
}

async function run(): Promise<void> {
  const prompt = $<HTMLTextAreaElement>('prompt').value;
  const methods = [...document.querySelectorAll<HTMLInputElement>('input[name=method]:checked')].map((b) => b.value);
  if (!prompt.trim()) return message('the prompt is empty: type one or pick one');
  if (!methods.length) return message('choose at least one method');
  const large = modelFor('large') ?? modelFor('base');
  if (!large) return message('choose a large model');
  const value = modelFor('value');
  const steerModels: SteerModels = {
    large,
    tuned: modelFor('tuned'),
    untuned: modelFor('untuned'),
    base: modelFor('base'),
    aligned: modelFor('aligned'),
    value: value && hasScalarHead(value) ? valueModelFromHead(value) : undefined,
  };
  const gold = sentimentReward();
  const sampling = {
    maxNewTokens: numberOf('max-tokens') ?? 32,
    temperature: numberOf('temperature') ?? 1,
    seed: numberOf('seed') ?? 1,
  };
  $('results').replaceChildren();
  const panes = new Map(methods.map((m) => [m, pane(m)]));
  running = new AbortController();
  abortStepsOn(running.signal);
  setState('running');
  try {
    for (const method of methods) {
      const p = panes.get(method)!;
      if (running.signal.aborted) {
        p.set('status', 'stopped');
        continue;
      }
      p.set('status', 'running');
      const started = performance.now();
      let generated = 0;
      try {
        const result = await runSteerMethod(method, steerModels, prompt, {
          ...sampling,
          ...settings(),
          gold,
          onSettled: (text) => p.set('text', text),
          onProgress: (progress) => {
            generated = progress.generated;
            p.set('tps', (generated / ((performance.now() - started) / 1000)).toFixed(1));
          },
        });
        const seconds = (performance.now() - started) / 1000;
        const processed = Object.values(result.usage).reduce((a, u) => a + u.processedTokens, 0);
        const [reward] = await gold.score([{ prompt, response: result.text, finishReason: result.finishReason }]);
        p.set('text', result.text);
        p.set('tps', (result.tokens.length / seconds).toFixed(1));
        p.set('processed', String(processed));
        p.set('gold', reward.toFixed(3));
        p.set('status', `done (${result.finishReason}) in ${seconds.toFixed(2)} s`);
        p.root.dataset.done = 'true';
      } catch (e) {
        if (running.signal.aborted) p.set('status', 'stopped');
        else {
          p.set('status', `failed: ${describe(e)}`);
          message(`${method}: ${describe(e)}`);
        }
      }
    }
  } finally {
    abortStepsOn(null);
    running = null;
    setState('ready');
  }
}

function setupMethods(): void {
  const box = $('methods');
  for (const method of STEER_METHODS) {
    const label = document.createElement('label');
    label.innerHTML = `<input type="checkbox" name="method" value="${method.name}"> ${method.name}`;
    box.append(label);
  }
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = Number(params.get('threads') ?? (isolated ? Math.min(4, navigator.hardwareConcurrency) : 1));
  const wantGpu = params.get('provider') === 'webgpu' || params.get('provider') === 'auto';
  const gpu = wantGpu && 'gpu' in navigator && (await (navigator as any).gpu.requestAdapter().catch(() => null));
  configureWebRuntime({ wasmPaths: new URL('ort/', location.href).href, threads, provider: gpu ? 'webgpu' : 'wasm' });
  const rt = webRuntime();
  $('runtime').textContent =
    rt.provider === 'webgpu'
      ? 'WebGPU'
      : `WebAssembly, ${rt.threads} thread${rt.threads === 1 ? '' : 's'}${rt.isolated ? '' : ' (page not cross-origin isolated)'}`;
  document.body.dataset.provider = rt.provider;
  document.body.dataset.threads = String(rt.threads);

  const runtime = params.get('runtime') ?? 'auto';
  if (!(STEP_RUNTIMES as readonly string[]).includes(runtime))
    message(`?runtime=${runtime} is not one of ${STEP_RUNTIMES.join(', ')}; using auto`);
  else stepRuntime = runtime as StepRuntime;

  setupMethods();
  for (const role of ROLES) $(`role-${role}`).addEventListener('change', refreshMethods);
  $('run').addEventListener('click', () => void run());
  $('stop').addEventListener('click', () => running?.abort());
  $<HTMLInputElement>('pick-directory').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    void loadPicked('directory', input.files!).then(() => (input.value = ''));
  });
  $<HTMLInputElement>('pick-gguf').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    void loadPicked('gguf', input.files!).then(() => (input.value = ''));
  });

  setState('loading');
  const manifest = (await (await fetch('models.json')).json()) as PlaygroundManifest;
  const promptPick = $<HTMLSelectElement>('prompt-pick');
  promptPick.append(...manifest.prompts.map((p) => new Option(p, p)));
  promptPick.addEventListener('change', () => ($<HTMLTextAreaElement>('prompt').value = promptPick.value));
  $<HTMLTextAreaElement>('prompt').value = manifest.prompts[0] ?? '';
  for (const model of manifest.models) {
    try {
      for (const file of model.files) {
        const response = await fetch(`models/${model.name}/${file}`);
        if (!response.ok) throw new Error(`models/${model.name}/${file}: HTTP ${response.status}`);
        mountFile(`/models/${model.name}/${file}`, new Uint8Array(await response.arrayBuffer()));
      }
      await addModel(model.name, `/models/${model.name}`);
    } catch (e) {
      message(`embedded model ${model.name}: ${describe(e)}`);
    }
  }
  refreshModelLists();
  for (const [role, name] of Object.entries(manifest.roles))
    if (name && models.has(name)) $<HTMLSelectElement>(`role-${role}`).value = name;
  refreshMethods();
  setState('ready');
}

/**
 * Decode speed of a loaded model in this page, greedy: the first run's tokens/s (what a fresh tab
 * shows) and the steady state. Browsers compile WebAssembly in tiers — a quick baseline first,
 * optimized code for the hot functions later, which on a loaded machine took thousands of decode
 * steps — so runs repeat until the rate stops rising (at most 30 s), and the steady state is the
 * best of the last five (on a shared machine the slower ones measure the other load). The browser
 * test prints it beside the Node backend's, measured the same way.
 */
async function decodeSpeed(
  name: string,
  prompt: string,
  tokens: number,
  runtime: StepRuntime,
): Promise<{ tokensPerSecond: number; firstRun: number; warmUpSeconds: number; ranOn: string }> {
  const path = modelPaths.get(name);
  if (!path) throw new Error(`no model named ${name}`);
  const model = await loadNativeModel(path, undefined, { runtime });
  try {
    return { ...(await steadyRate(model, prompt, tokens)), ranOn: runsOn(model) };
  } finally {
    await model.dispose();
  }
}

async function steadyRate(model: NativeModel, prompt: string, tokens: number) {
  const rates: number[] = [];
  const started = performance.now();
  const risen = () => Math.max(...rates.slice(-5)) > 1.05 * Math.max(...rates.slice(0, -5));
  while (rates.length < 10 || (risen() && performance.now() - started < 30_000)) {
    const t = performance.now();
    const [out] = await model.sample({ prompt, maxNewTokens: tokens, temperature: 0 });
    rates.push(out.tokens.length / ((performance.now() - t) / 1000));
  }
  return {
    tokensPerSecond: Math.max(...rates.slice(-5)),
    firstRun: rates[0],
    warmUpSeconds: (performance.now() - started) / 1000,
  };
}
Object.assign(globalThis, { alignkitPlayground: { decodeSpeed } });

start().catch((e) => {
  message(describe(e));
  setState('ready');
});
