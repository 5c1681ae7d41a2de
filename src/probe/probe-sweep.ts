/**
 * The sweep behind `probe fit`: for each store (model), attribute, probe kind and state group,
 * a probe per layer (the layer curve), plus the controls — shuffled labels, the random-init
 * twin's states, prompt-only surface features — and the timeline groups (state after t tokens).
 */
import { AlignkitError } from '../errors.ts';
import { encodeLabels, type EncodedLabels } from './label-encoding.ts';
import { requireEnoughItems } from './dataset-split.ts';
import { selectRows, type Matrix } from './matrix.ts';
import { evaluateProbe, type MeanSd, type SeedResult } from './probe-evaluation.ts';
import type { ProbeGrid, ProbeKind } from './probe-fit.ts';
import {
  promptGroup,
  randomInitGroup,
  timelineStep,
  type RepresentationStore,
  type StoredItem,
} from './representation-store.ts';
import { surfaceFeatures } from './surface-features.ts';
import type { AttributeValue } from './attribute.ts';

export const surfaceRepresentation = 'surface';
export type Control = 'none' | 'shuffled-labels';

export interface SweepRow {
  key: string;
  model: string;
  /** "prompt", "random-init", "after-<t>" or "surface" */
  representation: string;
  control: Control;
  layer: number | null;
  /** timeline step t for "after-<t>" */
  step: number | null;
  attribute: string;
  task: EncodedLabels['task'];
  probe: ProbeKind;
  items: number;
  missing: number;
  classes?: string[];
  test: Record<string, MeanSd>;
  val: Record<string, MeanSd>;
  chance: Record<string, MeanSd>;
  seeds: SeedResult[];
}

export interface SkippedFit {
  model: string;
  representation: string;
  attribute: string;
  reason: string;
}

export interface SweepOptions {
  stores: { name: string; store: RepresentationStore }[];
  probes: readonly ProbeKind[];
  seeds: number;
  /** default: every attribute the stores hold */
  attributes?: readonly string[];
  /** default: every layer the stores hold */
  layers?: readonly number[];
  controls?: { shuffledLabels?: boolean; randomInit?: boolean; surface?: boolean; timeline?: boolean };
  grid?: ProbeGrid;
  balanceClasses?: boolean;
  /** resume: fits whose key is done are not repeated */
  isDone?: (key: string) => boolean;
  onRow?: (row: SweepRow) => void;
  onProgress?: (progress: { done: number; total: number; current: string }) => void;
}

interface Job {
  key: string;
  model: string;
  store: RepresentationStore;
  representation: string;
  control: Control;
  layer: number | null;
  attribute: string;
  probe: ProbeKind;
}

export const sweepKey = (j: Pick<Job, 'model' | 'representation' | 'control' | 'layer' | 'attribute' | 'probe'>) =>
  [j.model, j.representation, j.control, j.layer ?? '-', j.attribute, j.probe].join('|');

/** Runs every fit; returns the rows (new ones, in order) and the fits skipped with their reason. */
export function runSweep(options: SweepOptions): { rows: SweepRow[]; skipped: SkippedFit[] } {
  const controls = { shuffledLabels: true, randomInit: true, surface: true, timeline: true, ...options.controls };
  const jobs: Job[] = [];
  const labelsFor = new Map<string, EncodedLabels | Error>();
  const skipped: SkippedFit[] = [];

  for (const { name: model, store } of options.stores) {
    const items = store.items();
    const attributes = options.attributes?.length ? options.attributes : store.meta.attributes.map((a) => a.name);
    const layers = options.layers?.length
      ? store.meta.layers.filter((l) => options.layers!.includes(l))
      : store.meta.layers;
    if (layers.length === 0)
      throw new AlignkitError(
        'input',
        `${store.dir} has none of the requested layers (it has ${store.meta.layers.join(', ')})`,
        { field: '--layers' },
      );
    const representations = store.meta.groups.filter(
      (g) =>
        g === promptGroup ||
        (g === randomInitGroup && controls.randomInit) ||
        (timelineStep(g) !== null && controls.timeline),
    );
    for (const attribute of attributes) {
      const declared = store.meta.attributes.find((a) => a.name === attribute);
      if (!declared)
        throw new AlignkitError(
          'input',
          `${store.dir} has no attribute "${attribute}" (it has: ${store.meta.attributes.map((a) => a.name).join(', ')})`,
          { field: '--attributes' },
        );
      const add = (representation: string, control: Control, layer: number | null) => {
        for (const probe of options.probes) {
          const job = { model, store, representation, control, layer, attribute, probe };
          jobs.push({ ...job, key: sweepKey(job) });
        }
      };
      for (const representation of representations) {
        const labels = tryEncode(
          attribute,
          labelValues(items, attribute, representation),
          declared.task,
          `attribute "${attribute}" (${representation} states of ${model})`,
        );
        labelsFor.set(`${model}|${representation}|${attribute}`, labels);
        if (labels instanceof Error) {
          skipped.push({ model, representation, attribute, reason: labels.message });
          continue;
        }
        for (const layer of layers) {
          add(representation, 'none', layer);
          if (representation === promptGroup && controls.shuffledLabels) add(representation, 'shuffled-labels', layer);
        }
      }
      if (controls.surface && !(labelsFor.get(`${model}|${promptGroup}|${attribute}`) instanceof Error)) {
        labelsFor.set(
          `${model}|${surfaceRepresentation}|${attribute}`,
          labelsFor.get(`${model}|${promptGroup}|${attribute}`)!,
        );
        add(surfaceRepresentation, 'none', null);
      }
    }
  }
  if (jobs.length === 0) {
    const first = skipped[0];
    throw new AlignkitError('input', first ? `nothing to probe: ${first.reason}` : 'nothing to probe');
  }

  const rows: SweepRow[] = [];
  const features = new Map<string, Matrix>();
  // grouped by state matrix so each layer is read once
  const storeOrder = new Map(options.stores.map((s, i) => [s.name, i]));
  const groupKey = (j: Job) =>
    `${String(storeOrder.get(j.model)).padStart(4, '0')}|${j.representation}|${String(j.layer ?? -1).padStart(4, '0')}`;
  const todo = jobs
    .filter((j) => !options.isDone?.(j.key))
    .sort((a, b) => (groupKey(a) < groupKey(b) ? -1 : groupKey(a) > groupKey(b) ? 1 : 0));
  todo.forEach((job, done) => {
    options.onProgress?.({
      done,
      total: todo.length,
      current: `${job.model} ${job.attribute} ${job.representation}${job.layer === null ? '' : ` L${job.layer}`} ${job.probe}${job.control === 'none' ? '' : ` (${job.control})`}`,
    });
    const labels = labelsFor.get(`${job.model}|${job.representation}|${job.attribute}`) as EncodedLabels;
    const featureKey = `${job.model}|${job.representation}|${job.layer}`;
    if (!features.has(featureKey)) {
      features.clear(); // one layer matrix in memory at a time (jobs are grouped by layer)
      features.set(
        featureKey,
        job.representation === surfaceRepresentation
          ? surfaceFeatures(job.store.items())
          : job.store.readLayer(job.representation, job.layer!),
      );
    }
    const x = selectRows(features.get(featureKey)!, labels.kept);
    const evaluation = evaluateProbe(x, labels, {
      probe: job.probe,
      seeds: options.seeds,
      grid: options.grid,
      shuffleLabels: job.control === 'shuffled-labels',
      balanceClasses: options.balanceClasses,
      what: `attribute "${job.attribute}" (${job.representation}${job.representation === promptGroup || job.representation === surfaceRepresentation ? '' : ' states'} of ${job.model})`,
    });
    const row: SweepRow = {
      key: job.key,
      model: job.model,
      representation: job.representation,
      control: job.control,
      layer: job.layer,
      step: timelineStep(job.representation),
      attribute: job.attribute,
      task: labels.task,
      probe: job.probe,
      items: labels.kept.length,
      missing: labels.missing.length,
      ...(labels.classes ? { classes: labels.classes } : {}),
      test: evaluation.test,
      val: evaluation.val,
      chance: evaluation.chance,
      seeds: evaluation.seeds,
    };
    rows.push(row);
    options.onRow?.(row);
  });
  options.onProgress?.({ done: todo.length, total: todo.length, current: 'done' });
  return { rows, skipped };
}

/** The labels of an attribute for a representation: timeline groups use the labels at step t. */
function labelValues(
  items: readonly StoredItem[],
  attribute: string,
  representation: string,
): (AttributeValue | undefined)[] {
  const t = timelineStep(representation);
  return items.map((item) => (t === null ? item.attributes[attribute] : item.timeline?.[String(t)]?.[attribute]));
}

function tryEncode(
  attribute: string,
  values: (AttributeValue | undefined)[],
  task: EncodedLabels['task'],
  what: string,
): EncodedLabels | Error {
  try {
    const labels = encodeLabels(attribute, values, task);
    requireEnoughItems(
      labels.kept.length,
      labels.missing.length ? `${what}, with ${labels.missing.length} item(s) lacking a value` : what,
    );
    return labels;
  } catch (e) {
    return e as Error;
  }
}
