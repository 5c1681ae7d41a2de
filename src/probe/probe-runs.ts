/**
 * The two probe runs: `collectProbeData` (hidden states and response attributes of every prompt,
 * one store per model) and `fitProbes` (probes per layer next to their controls, on stores
 * collected before). `alignkit probe collect|fit` are these functions.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { inputError } from '../errors.ts';
import { loadRandomInitTwin } from '../lm/load.ts';
import { finishRun, type RunOutputs } from '../report/finish-run.ts';
import { RunSession, type RunTarget } from '../run/run-session.ts';
import type { Summary, Table } from '../run/summary.ts';
import type { AttributeOptions } from './attribute.ts';
import { registerAttributeModule } from './attribute-module.ts';
import { builtinAttributes } from './builtin-attributes.ts';
import { collectRepresentations, type CollectResult } from './collect.ts';
import { buildProbeSummary } from './probe-summary.ts';
import { defaultProbeGrid, type ProbeGrid, type ProbeKind } from './probe-fit.ts';
import { runSweep, type SweepRow } from './probe-sweep.ts';
import { readPromptItems } from './prompt-data.ts';
import { isStore, RepresentationStore, type StateDtype } from './representation-store.ts';

export interface CollectRunOptions extends RunTarget {
  /** one store per model (a folder each when several are given) */
  models: readonly string[];
  tokenizer?: string;
  apiKeyEnv?: string;
  /** JSONL (one object per line; .jsonl.gz too) or .txt (one prompt per line) */
  data: string;
  promptField?: string;
  /** build the prompt from fields, e.g. "Q: {question}\nA:" */
  template?: string;
  limit?: number;
  /** keep the first N words of each prompt (negative: the last |N|) */
  promptWords?: number;
  attributes: readonly string[];
  /** ES modules exporting `attributes` */
  attributeModules?: readonly string[];
  attributeOptions?: AttributeOptions;
  layers?: readonly number[];
  maxNewTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed: number;
  timeline?: readonly number[];
  chat: boolean;
  stop?: readonly string[];
  dtype: StateDtype;
  batchSize: number;
  /** also keep the prompt states of a randomly initialized twin of each model */
  controlRandomInit: boolean;
}

export interface CollectRunResult extends RunOutputs {
  results: { model: string; result: CollectResult }[];
}

/** A folder name for a model reference: its file or model name, made unique. */
function modelSlugs(refs: readonly string[]): string[] {
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

/** `alignkit probe collect`: hidden states and response attributes of every prompt, one store per model (resumable). */
export async function collectProbeData(o: CollectRunOptions): Promise<CollectRunResult> {
  if (o.models.length === 0) throw inputError('missing required flag --model');
  const items = readPromptItems(o.data, {
    promptField: o.promptField,
    template: o.template,
    limit: o.limit,
    words: o.promptWords,
  });
  const registry = builtinAttributes();
  for (const file of o.attributeModules ?? []) await registerAttributeModule(registry, file);
  const attributes = registry.resolve(
    [...o.attributes],
    items.map((i) => i.fields),
  );
  const session = RunSession.open({
    ...o,
    command: 'probe collect',
    models: { apiKeyEnv: o.apiKeyEnv, tokenizer: o.tokenizer },
  });
  try {
    const slugs = modelSlugs(o.models);
    const results: CollectRunResult['results'] = [];
    for (let m = 0; m < o.models.length; m++) {
      const model = await session.models.load(o.models[m]);
      const randomInitModel = o.controlRandomInit
        ? await loadRandomInitTwin(o.models[m], o.tokenizer, o.seed)
        : undefined;
      if (m === 0) session.start({ models: o.models, data: o.data, items: items.length });
      try {
        const result = await collectRepresentations({
          model,
          items,
          attributes,
          attributeOptions: o.attributeOptions,
          out: o.models.length === 1 ? o.out : join(o.out, slugs[m]),
          resume: o.resume,
          dtype: o.dtype,
          batchSize: o.batchSize,
          randomInitModel,
          layers: o.layers,
          maxNewTokens: o.maxNewTokens,
          temperature: o.temperature,
          topP: o.topP,
          topK: o.topK,
          seed: o.seed,
          timeline: o.timeline,
          chat: o.chat,
          stop: o.stop,
          settings: { data: basename(o.data) },
          onProgress: (p) =>
            session.progress({
              stage: o.models.length > 1 ? slugs[m] : undefined,
              done: p.done,
              total: p.total,
              note: p.itemsPerSecond ? `${p.itemsPerSecond.toFixed(2)} items/s` : undefined,
            }),
        });
        results.push({ model: slugs[m], result });
      } finally {
        await session.models.release(o.models[m]);
        await randomInitModel?.dispose();
      }
    }
    return { ...finishRun(session.folder, collectSummary(results, o.out, o.models.length === 1)), results };
  } finally {
    await session.close();
  }
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

export const PROBE_CONTROLS = ['shuffled', 'random-init', 'surface', 'timeline'] as const;
export type ProbeControl = (typeof PROBE_CONTROLS)[number];

export interface FitRunOptions extends RunTarget {
  /** folders that are stores, or hold stores (one per model) */
  inputs: readonly string[];
  probes: readonly ProbeKind[];
  seeds: number;
  /** default: every collected attribute / layer */
  attributes?: readonly string[];
  layers?: readonly number[];
  /** the controls fitted next to the probes (default all) */
  controls?: readonly ProbeControl[];
  grid?: Partial<ProbeGrid>;
  /** classification: downsample every class to the smallest */
  balance: boolean;
}

export interface FitRunResult extends RunOutputs {
  skipped: { reason: string }[];
}

/** Stores under the input folders: a folder that is a store, or the stores directly inside it. */
function findStores(dirs: readonly string[]): { name: string; store: RepresentationStore }[] {
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

/** `alignkit probe fit`: probes per layer and seed next to their controls, on stores collected before (resumable). */
export async function fitProbes(o: FitRunOptions): Promise<FitRunResult> {
  if (o.inputs.length === 0) throw inputError('missing required flag --in');
  if (o.probes.length === 0) throw inputError('missing required flag --probe (linear, mlp or linear,mlp)');
  const controls = o.controls ?? PROBE_CONTROLS;
  const grid: ProbeGrid = { ...defaultProbeGrid, ...o.grid };
  const stores = findStores(o.inputs);
  const session = RunSession.open({ ...o, command: 'probe fit' });
  try {
    session.start({
      inputs: stores.map((s) => ({ name: s.name, dir: s.store.dir, model: s.store.meta.model })),
      probes: o.probes,
      seeds: o.seeds,
      grid,
      controls,
      balance: o.balance,
    });
    const previous = session.folder.finished<SweepRow>();
    const done = new Set(previous.map((r) => r.key));
    const result = runSweep({
      stores,
      probes: [...o.probes],
      seeds: o.seeds,
      grid,
      balanceClasses: o.balance,
      attributes: [...(o.attributes ?? [])],
      layers: o.layers,
      controls: {
        shuffledLabels: controls.includes('shuffled'),
        randomInit: controls.includes('random-init'),
        surface: controls.includes('surface'),
        timeline: controls.includes('timeline'),
      },
      isDone: (key) => done.has(key),
      onRow: (row) => session.folder.append(row),
      onProgress: ({ done: d, total }) => session.progress({ done: d, total }),
    });
    const summary = buildProbeSummary([...previous, ...result.rows], { skipped: result.skipped });
    return { ...finishRun(session.folder, summary), skipped: result.skipped };
  } finally {
    await session.close();
  }
}
