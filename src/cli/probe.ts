import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { parseFlags, requireFlag, numberFlag, intFlag, listFlag } from './args.ts';
import { formatTable } from './run-output.ts';
import { inputError } from '../errors.ts';
import { loadModel, loadRandomInitTwin } from '../lm/load.ts';
import { RunDir } from '../report/run-dir.ts';
import type { Summary, Table } from '../report/summary.ts';
import { writeReport } from '../report/write-report.ts';
import { builtinAttributes } from '../probe/builtin-attributes.ts';
import { collectRepresentations, type CollectProgress, type CollectResult } from '../probe/collect.ts';
import { readPromptItems } from '../probe/prompt-data.ts';
import { isStore, RepresentationStore, type StateDtype } from '../probe/representation-store.ts';
import { defaultProbeGrid, probeKinds, type ProbeGrid, type ProbeKind } from '../probe/probe-fit.ts';
import { runSweep, type SweepRow } from '../probe/probe-sweep.ts';
import { buildProbeSummary } from '../probe/probe-summary.ts';
import type { AttributeOptions } from '../probe/attribute.ts';
import { registerAttributeModule } from '../probe/attribute-module.ts';

const USAGE = `usage: alignkit probe collect|fit [flags]

alignkit probe collect --model M [--model M2 ...] --data FILE --attributes a,b --out DIR
  For each prompt: one prefill gives the hidden state of the last prompt token at every layer
  (or --layers) and the KV cache the response is generated from; the response's attributes are
  computed and everything is appended to DIR (one folder per model when several are given).
  --data FILE            JSONL (one object per line; .jsonl.gz too) or .txt (one prompt per line)
  --prompt-field F       field holding the prompt (default: prompt, question, instruction, input or text)
  --template T           build the prompt from fields, e.g. "Q: {question}\\nA:"
  --limit N              first N prompts
  --prompt-words N       keep the first N words of each prompt (negative: the last |N| words, e.g. --prompt-words=-40)
  --attributes LIST      length, steps, character, choice, confidence, consistency, or a data field
                         (NAME or field:NAME), or one from --attribute-module
  --attribute-module F   an ES module (.mjs/.ts) exporting \`attributes\`: [{ name, task, compute(context) }]
  --layers LIST          layers to keep (0 = embeddings; default all)
  --max-new-tokens N     (default 256)   --temperature T (default 0 = greedy)   --top-p P  --top-k K
  --seed S               sampling seed (default 0)
  --timeline LIST        also keep the state after t response tokens, e.g. 8,32,128
  --chat                 render prompts with the tokenizer's chat template
  --stop STR             stop string (repeatable)
  --names LIST           candidate names for "character" (default: common TinyStories names)
  --reference-field F    reference answer for "consistency"/"confidence" (default: reference, answer, label)
  --confidence MODE      mean|first|last|min over the answer tokens (default mean)
  --max-steps N          cap for "steps"
  --dtype float32|float16  state storage (default float32)
  --batch-size N         prompts decoded together (default 8)
  --control-random-init  also keep the prompt states of a randomly initialised model of the same
                         architecture (the random-init control)
  --tokenizer PATH       tokenizer of a local model   --resume  continue a killed collection

alignkit probe fit --in DIR [--in DIR2 ...] --probe linear|mlp[,mlp] --out DIR
  Fits probes per layer with a 60/20/20 split per seed, hyper-parameters chosen on validation,
  next to the controls (shuffled labels, random-init states, prompt surface features) and writes
  DIR/summary.json and DIR/report.html with the layer curves.
  --seeds N              (default 3)
  --attributes LIST      (default: all collected)   --layers LIST (default: all collected)
  --controls LIST        shuffled,random-init,surface,timeline (default all; "none" for none)
  --hidden-sizes LIST    MLP hidden sizes (default ${defaultProbeGrid.mlpHidden.join(',')})
  --l2 LIST              MLP L2 penalties (default ${defaultProbeGrid.mlpL2.join(',')})
  --max-epochs N         MLP epochs (default ${defaultProbeGrid.mlpMaxEpochs}, early stopping on validation)
  --balance              classification: downsample every class to the smallest
  --resume               keep finished fits in DIR`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    console.log(USAGE);
    return sub ? 0 : 1;
  }
  if (sub === 'collect') return collect(rest);
  if (sub === 'fit') return fit(rest);
  throw inputError(`unknown probe command "${sub}" (expected collect or fit)\n${USAGE}`);
}

const COLLECT_FLAGS = {
  model: { type: 'string', multiple: true },
  tokenizer: { type: 'string' },
  data: { type: 'string' },
  attributes: { type: 'string', multiple: true },
  out: { type: 'string' },
  layers: { type: 'string' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
  timeline: { type: 'string' },
  chat: { type: 'boolean' },
  stop: { type: 'string', multiple: true },
  'prompt-field': { type: 'string' },
  'prompt-words': { type: 'string' },
  template: { type: 'string' },
  limit: { type: 'string' },
  names: { type: 'string' },
  'reference-field': { type: 'string' },
  confidence: { type: 'string' },
  'max-steps': { type: 'string' },
  dtype: { type: 'string' },
  'batch-size': { type: 'string' },
  'control-random-init': { type: 'boolean' },
  resume: { type: 'boolean' },
  'api-key-env': { type: 'string' },
  'attribute-module': { type: 'string', multiple: true },
} as const;

function intList(values: Record<string, any>, flag: string): number[] | undefined {
  const items = listFlag(values, flag);
  if (items.length === 0 || (items.length === 1 && items[0] === 'all')) return undefined;
  return items.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw inputError(`--${flag} expects integers, got "${s}"`);
    return n;
  });
}

function oneOf<T extends string>(values: Record<string, any>, flag: string, allowed: readonly T[], fallback: T): T {
  const v = values[flag] ?? fallback;
  if (!allowed.includes(v)) throw inputError(`--${flag} expects one of ${allowed.join(', ')}, got "${v}"`);
  return v;
}

/** A folder name for a model reference: its file or model name, made unique. */
function modelSlugs(refs: string[]): string[] {
  const seen = new Map<string, number>();
  return refs.map((ref) => {
    const base =
      (ref.includes('#') ? ref.slice(ref.lastIndexOf('#') + 1) : basename(ref.replace(/\/+$/, '')))
        .replace(/\.[^.]+$/, '')
        .replace(/[^\w.-]+/g, '_') || 'model';
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}-${n + 1}` : base;
  });
}

async function collect(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, COLLECT_FLAGS as any);
  const refs: string[] = values.model ?? [];
  if (refs.length === 0) throw inputError('missing required flag --model');
  const data = requireFlag(values, 'data');
  const out = requireFlag(values, 'out');
  const resume = !!values.resume;
  const items = readPromptItems(data, {
    promptField: values['prompt-field'],
    template: values.template,
    limit: intFlag(values, 'limit'),
    words: intFlag(values, 'prompt-words'),
  });
  const registry = builtinAttributes();
  for (const file of values['attribute-module'] ?? []) await registerAttributeModule(registry, file);
  const attributes = registry.resolve(
    listFlag(values, 'attributes'),
    items.map((i) => i.fields),
  );
  const attributeOptions: AttributeOptions = {
    ...(values.names ? { names: listFlag(values, 'names') } : {}),
    ...(values['reference-field'] ? { referenceField: values['reference-field'] } : {}),
    ...(values.confidence
      ? { confidence: oneOf(values, 'confidence', ['mean', 'first', 'last', 'min'] as const, 'mean') }
      : {}),
    ...(values['max-steps'] ? { maxSteps: intFlag(values, 'max-steps') } : {}),
  };
  const dtype = oneOf<StateDtype>(values, 'dtype', ['float32', 'float16'], 'float32');
  const batchSize = intFlag(values, 'batch-size', 8);
  if (batchSize < 1) throw inputError(`--batch-size expects a positive integer, got "${values['batch-size']}"`);
  const runDir = RunDir.create(out, { resume });
  runDir.writeConfig({
    command: 'probe collect',
    flags: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
  });
  const slugs = modelSlugs(refs);
  const results: { model: string; result: CollectResult }[] = [];
  for (let m = 0; m < refs.length; m++) {
    const dir = refs.length === 1 ? out : join(out, slugs[m]);
    const model = await loadModel(refs[m], { tokenizer: values.tokenizer, apiKeyEnv: values['api-key-env'] });
    const randomInitModel = values['control-random-init']
      ? await loadRandomInitTwin(refs[m], values.tokenizer, intFlag(values, 'seed', 0))
      : undefined;
    const progress = progressRenderer(`collect ${slugs[m]}`);
    try {
      const result = await collectRepresentations({
        model,
        items,
        attributes,
        attributeOptions,
        out: dir,
        resume,
        dtype,
        batchSize,
        randomInitModel,
        layers: intList(values, 'layers'),
        maxNewTokens: intFlag(values, 'max-new-tokens', 256),
        temperature: numberFlag(values, 'temperature', 0),
        topP: numberFlag(values, 'top-p'),
        topK: intFlag(values, 'top-k'),
        seed: intFlag(values, 'seed', 0),
        timeline: intList(values, 'timeline'),
        chat: !!values.chat,
        stop: values.stop,
        settings: { data: basename(data) },
        onProgress: progress.update,
      });
      results.push({ model: slugs[m], result });
    } finally {
      progress.stop();
      await model.dispose();
      await randomInitModel?.dispose();
    }
  }
  const summary = collectSummary(results, out, refs.length === 1);
  runDir.writeSummary(summary);
  console.log(formatTable(summary.tables[0]));
  console.log(`report: ${writeReport(out)}`);
  return 0;
}

function collectSummary(results: { model: string; result: CollectResult }[], out: string, single: boolean): Summary {
  const table: Table = {
    title: 'Collected representations',
    columns: [
      'model',
      'items',
      'collected now',
      'items/s',
      'generated tokens',
      'mean response tokens',
      'layers',
      'extra prefills',
    ],
    rows: [],
  };
  const plots: Summary['plots'] = [];
  const metrics: Summary['metrics'] = {};
  for (const { model, result } of results) {
    const store = RepresentationStore.open(single ? out : join(out, model));
    const items = store.items();
    const meanLength = items.reduce((a, i) => a + i.responseTokens, 0) / Math.max(1, items.length);
    table.rows.push([
      model,
      result.items,
      result.collected,
      Number(result.itemsPerSecond.toFixed(2)),
      result.generatedTokens,
      Number(meanLength.toFixed(1)),
      result.layers.join(','),
      result.extraPrefills,
    ]);
    metrics[`${single ? '' : `${model} `}items/s`] = Number(result.itemsPerSecond.toFixed(2));
    for (const a of store.meta.attributes) {
      const counts = new Map<string, number>();
      for (const item of items) {
        const v = item.attributes[a.name];
        const key =
          v === null || v === undefined
            ? '(none)'
            : a.task === 'regression'
              ? String(Math.round(Number(v) * 100) / 100)
              : String(v);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const sorted = [...counts].sort((x, y) => (a.task === 'regression' ? Number(x[0]) - Number(y[0]) : y[1] - x[1]));
      plots.push({
        type: a.task === 'regression' ? 'scatter' : 'bar',
        title: `${a.name}: distribution${single ? '' : ` (${model})`}`,
        xLabel: a.name,
        yLabel: 'items',
        series: [
          {
            name: a.name,
            points: sorted
              .filter(([k]) => a.task !== 'regression' || k !== '(none)')
              .map(([k, n]) => [a.task === 'regression' ? Number(k) : k, n]),
          },
        ],
      });
    }
  }
  return { kind: 'probe collect', title: 'Representation dataset', metrics, tables: [table], plots };
}

const FIT_FLAGS = {
  in: { type: 'string', multiple: true },
  probe: { type: 'string' },
  out: { type: 'string' },
  seeds: { type: 'string' },
  attributes: { type: 'string', multiple: true },
  layers: { type: 'string' },
  controls: { type: 'string' },
  'hidden-sizes': { type: 'string' },
  l2: { type: 'string' },
  'max-epochs': { type: 'string' },
  balance: { type: 'boolean' },
  resume: { type: 'boolean' },
} as const;

/** Stores under the --in folders: a folder that is a store, or the stores directly inside it. */
function findStores(dirs: string[]): { name: string; store: RepresentationStore }[] {
  const found: { name: string; store: RepresentationStore }[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) throw inputError('folder not found', { file: dir, field: '--in' });
    if (isStore(dir)) {
      found.push({ name: '', store: RepresentationStore.open(dir) });
      continue;
    }
    const inner = readdirSync(dir)
      .map((d) => join(dir, d))
      .filter(isStore)
      .sort();
    if (inner.length === 0)
      throw inputError('holds no representation store (collect one with "alignkit probe collect")', {
        file: dir,
        field: '--in',
      });
    found.push(...inner.map((d) => ({ name: basename(d), store: RepresentationStore.open(d) })));
  }
  const names = modelSlugs(found.map((f) => f.name || f.store.meta.model));
  return found.map((f, i) => ({ name: names[i], store: f.store }));
}

async function fit(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FIT_FLAGS as any);
  const inputs: string[] = values.in ?? [];
  if (inputs.length === 0) throw inputError('missing required flag --in');
  const out = requireFlag(values, 'out');
  const probes = listFlag(values, 'probe');
  if (probes.length === 0) throw inputError('missing required flag --probe (linear, mlp or linear,mlp)');
  for (const p of probes)
    if (!probeKinds.includes(p as ProbeKind)) throw inputError(`--probe expects linear or mlp, got "${p}"`);
  const seeds = intFlag(values, 'seeds', 3);
  if (seeds < 1) throw inputError(`--seeds expects a positive integer, got "${values.seeds}"`);
  const controlNames = listFlag(values, 'controls');
  const allControls = ['shuffled', 'random-init', 'surface', 'timeline'];
  for (const c of controlNames)
    if (c !== 'none' && !allControls.includes(c))
      throw inputError(`--controls expects some of ${allControls.join(', ')} (or none), got "${c}"`);
  const wants = (c: string) => (controlNames.length === 0 ? true : controlNames.includes(c));
  const floats = (flag: string) =>
    listFlag(values, flag).map((s) => {
      const n = Number(s);
      if (!Number.isFinite(n)) throw inputError(`--${flag} expects numbers, got "${s}"`);
      return n;
    });
  const grid: ProbeGrid = {
    ...defaultProbeGrid,
    ...(values['hidden-sizes'] ? { mlpHidden: intList(values, 'hidden-sizes') ?? defaultProbeGrid.mlpHidden } : {}),
    ...(values.l2 ? { mlpL2: floats('l2') } : {}),
    mlpMaxEpochs: intFlag(values, 'max-epochs', defaultProbeGrid.mlpMaxEpochs),
  };
  const stores = findStores(inputs);
  const runDir = RunDir.create(out, { resume: !!values.resume });
  runDir.writeConfig({
    command: 'probe fit',
    inputs: stores.map((s) => ({ name: s.name, dir: s.store.dir, model: s.store.meta.model })),
    probes,
    seeds,
    grid,
    controls: controlNames.length ? controlNames : allControls,
    balance: !!values.balance,
  });
  const previous = runDir.finished<SweepRow>();
  const done = new Set(previous.map((r) => r.key));
  const progress = progressRenderer('fit');
  let result;
  try {
    result = runSweep({
      stores,
      probes: probes as ProbeKind[],
      seeds,
      grid,
      balanceClasses: !!values.balance,
      attributes: listFlag(values, 'attributes'),
      layers: intList(values, 'layers'),
      controls: {
        shuffledLabels: wants('shuffled'),
        randomInit: wants('random-init'),
        surface: wants('surface'),
        timeline: wants('timeline'),
      },
      isDone: (key) => done.has(key),
      onRow: (row) => runDir.append(row),
      onProgress: ({ done: d, total }) => progress.update({ done: d, total }),
    });
  } finally {
    progress.stop();
  }
  for (const s of result.skipped) console.error(`not probed: ${s.reason}`);
  const summary = buildProbeSummary([...previous, ...result.rows], { skipped: result.skipped });
  runDir.writeSummary(summary);
  console.log(formatTable(summary.tables[0]));
  console.log(`report: ${writeReport(out)}`);
  return 0;
}

/** A progress bar on a terminal; otherwise a plain line every 10 % or 30 s. */
function progressRenderer(label: string): {
  update: (p: Pick<CollectProgress, 'done' | 'total'> & Partial<CollectProgress>) => void;
  stop: () => void;
} {
  const rate = (p: Partial<CollectProgress>) => (p.itemsPerSecond ? `, ${p.itemsPerSecond.toFixed(2)} items/s` : '');
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}{rate}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (p) => {
        if (!started) {
          bar.start(p.total, p.done, { rate: rate(p) });
          started = true;
        } else bar.update(p.done, { rate: rate(p) });
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let lastStep = -1,
    lastTime = 0;
  return {
    update: (p) => {
      const step = p.total ? Math.floor((10 * p.done) / p.total) : 10;
      const now = Date.now();
      if (step === lastStep && now - lastTime < 30_000 && p.done !== p.total) return;
      lastStep = step;
      lastTime = now;
      console.error(`${label}: ${p.done}/${p.total}${rate(p)}`);
    },
    stop: () => undefined,
  };
}
