import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Figure } from '../util/bench-figure.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import type { OptionValues } from '../util/option-spec.ts';
import { command } from './command-spec.ts';

const STORIES_DIR = 'data/stories260K';

/** Each section returns figures; `optIn` sections (hours and GBs, or a part of another section) run only when named in --section. */
const sections: Record<string, { about: string; optIn?: boolean; run: (values: BenchValues) => Promise<Figure[]> }> = {
  engine: {
    about: 'native inference: stories260K decode, GPT-2-small-sized prefill/scoring/decode',
    async run(values) {
      const { benchGpt2SizedLlama, torchInferenceReference } = await import('../lm/native/bench.ts');
      return [...(await storiesGenerateFigures(values)), ...(await benchGpt2SizedLlama(torchInferenceReference()))];
    },
  },
  startup: {
    about:
      'CLI start-up to the first token (generate --max-new-tokens 1 on stories260K): the compiled bin vs the sources through tsx',
    run: (values) =>
      withStoriesFiles(values, async (model, tokenizer) => {
        const { benchStartup } = await import('./startup-bench.ts');
        return benchStartup(model, tokenizer);
      }),
  },
  generate: {
    about:
      'stories260K greedy decode in-process and `alignkit generate` whole-process (400 − 1 tokens), on the WebAssembly kernel and on onnxruntime, vs llama2.c with --run-c (also in engine)',
    optIn: true,
    run: storiesGenerateFigures,
  },
  kernels: {
    about:
      'one stories260K decode step per graph flavour: standard vs contrib kernels (Attention or GroupQueryAttention, 8/4-bit weights)',
    run: (values) =>
      withStoriesFiles(values, async (model) => {
        const { readLlama2cCheckpoint } = await import('../models/llama2c-checkpoint.ts');
        const { benchFlavours } = await import('../lm/native/flavour-bench.ts');
        const { config, weights } = readLlama2cCheckpoint(model);
        return benchFlavours(config, weights, 'stories260K');
      }),
  },
  gateway: {
    about: 'a native model behind the gateway: 8 concurrent clients vs 1, per-request overhead',
    async run(values) {
      const { benchGateway, gatewayBenchFigures } = await import('../serve/bench.ts');
      const { midSizedLlama } = await import('../lm/native/bench.ts');
      const behindGateway = async (model: LanguageModel, name: string) => {
        try {
          return gatewayBenchFigures(await benchGateway(model), name);
        } finally {
          await model.dispose();
        }
      };
      // stories260K, whose step is its own arithmetic, and a model large enough that a step is
      // bound by reading its weights, which a batch shares
      return [
        ...(await withStories(values, async (load) => behindGateway(await load(), 'stories260K'))),
        ...(await behindGateway(await midSizedLlama(), 'llama d 512, 8 layers, 26 M, random weights')),
      ];
    },
  },
  steering: {
    about: 'weak-to-strong search: small-model tokens per generated token, cached vs re-scoring; token-level overhead',
    async run(values) {
      const { benchDecode } = await import('../decode/bench.ts');
      return withStories(values, async (load) => {
        const [large, tuned, untuned] = [await load(), await load(), await load()];
        try {
          return await benchDecode({ large, tuned, untuned });
        } finally {
          for (const m of [large, tuned, untuned]) await m.dispose();
        }
      });
    },
  },
  probe: {
    about: 'probe collect items/s (one prefill per prompt + generation) and probe fitting',
    async run(values) {
      const { benchProbe } = await import('../probe/bench.ts');
      return withStories(values, async (load) => {
        const model = await load();
        try {
          return await benchProbe(model);
        } finally {
          await model.dispose();
        }
      });
    },
  },
  training: {
    about:
      'whole-process SFT (60 steps, vocab 512) and one training step (forward, backward, AdamW) of a llama-shaped and a GPT-2-small-shaped model, vs PyTorch when /usr/bin/python3 has torch; DPO vs SFT; LoRA; memory',
    async run(values) {
      const { benchTraining, trainingBenchFigures } = await import('../train/bench.ts');
      const { benchSftProcess } = await import('../train/bench-process.ts');
      const dir = values.stories;
      const paths = { tokenizer: `${dir}/tok512.bin`, stories: 'data/tinystories-sample/tinystories.txt' };
      const process = existsSync(paths.tokenizer) && existsSync(paths.stories) ? await benchSftProcess(paths) : [];
      return [...process, ...trainingBenchFigures(await benchTraining({ memory: true }))];
    },
  },
  memory: {
    about: 'peak memory of a GPT-2-small-sized model (in a fresh process)',
    async run() {
      const bin = fileURLToPath(new URL('../../bin/alignkit.mjs', import.meta.url));
      const child = spawnSync(process.execPath, [bin, 'bench', '--section', 'memory-child', '--json'], {
        encoding: 'utf8',
      });
      if (child.status !== 0) throw new Error(child.stderr);
      return JSON.parse(child.stdout);
    },
  },
  families: {
    optIn: true,
    about:
      'the architecture families at real size (random weights, published shapes): load, peak RSS, prefill, decode; vs PyTorch where /usr/bin/python3 has torch (needs several GB each)',
    async run(values) {
      const { benchFamilies } = await import('../lm/native/bench-families.ts');
      const models = values.model;
      return benchFamilies(models.length ? models : undefined);
    },
  },
  gguf: {
    about:
      'alignkit vs llama.cpp (node-llama-cpp, when installed) on the same random-weight GGUF files: a GPT-2-small-sized llama and a Llama-3.2-1B-shaped model at f32, q8_0, q4_0 (prefill 128, decode 1 and 8 sequences, peak RSS), each engine run at 1 and 2 threads and compared at its best',
    async run() {
      const { benchGgufSideBySide } = await import('../lm/native/gguf-bench.ts');
      return benchGgufSideBySide();
    },
  },
  'gguf-8b': {
    optIn: true,
    about:
      'a Llama-3-8B-shaped q4_0 GGUF (random weights, ~4.7 GB written to the system temp folder), at int8 and at float32-4bit arithmetic: load, prefill, tokens/s, peak RSS vs 1.2× its bytes + 400 MB; and one QLoRA step over it (LoRA q,v r=8): peak RSS and time',
    async run() {
      const { benchGguf8b } = await import('../lm/native/gguf-bench.ts');
      const { qloraStepFigures } = await import('../train/bench.ts');
      const { tmpdir } = await import('node:os');
      return benchGguf8b(tmpdir(), 2, qloraStepFigures);
    },
  },
  'memory-child': {
    about: '',
    async run() {
      return (await import('../lm/native/bench.ts')).benchMemory();
    },
  },
};

/** stories260K decode in-process and `alignkit generate` whole-process, against run.c binaries when given. */
function storiesGenerateFigures(values: BenchValues): Promise<Figure[]> {
  return withStoriesFiles(values, async (model, tokenizer) => {
    const { benchStories, benchGenerateProcess } = await import('../lm/native/bench.ts');
    const runC = values.runC;
    return [...(await benchStories(model, tokenizer, runC)), ...benchGenerateProcess(model, tokenizer, runC)];
  });
}

/** Runs a section on stories260K's checkpoint and tokenizer files (data/stories260K or --stories DIR), or reports that they are missing. */
async function withStoriesFiles(
  values: BenchValues,
  body: (model: string, tokenizer: string) => Promise<Figure[]>,
): Promise<Figure[]> {
  const dir = values.stories;
  if (!existsSync(`${dir}/stories260K.bin`))
    return [{ name: `stories260K (not found at ${dir}; pass --stories DIR)`, value: NaN, unit: '' }];
  return body(`${dir}/stories260K.bin`, `${dir}/tok512.bin`);
}

/** Runs a section on stories260K (data/stories260K or --stories DIR), or reports that it is missing. */
function withStories(
  values: BenchValues,
  body: (load: () => Promise<LanguageModel>) => Promise<Figure[]>,
): Promise<Figure[]> {
  return withStoriesFiles(values, async (model, tokenizer) => {
    const { loadNativeModel } = await import('../lm/load.ts');
    return body(() => loadNativeModel(model, tokenizer));
  });
}

/** The record of this run in DIR (checked and created before any section runs). */
async function benchRecord(dir: string) {
  const { BenchRecord } = await import('../run/bench-record.ts');
  const { startConditions } = await import('../run/measurement-conditions.ts');
  return new BenchRecord(dir, startConditions('alignkit', process.argv.slice(2)));
}

function formatFigure(f: Figure): string {
  const v = Number.isFinite(f.value) ? (f.value >= 100 ? f.value.toFixed(0) : f.value.toFixed(2)) : '—';
  const ref = f.reference ? `   vs ${f.reference.name}: ${f.reference.value} → ${f.reference.ratio.toFixed(2)}×` : '';
  const target = f.target ? `   (target ${f.target})` : '';
  return `  ${f.name.padEnd(58)} ${v.padStart(9)} ${f.unit.padEnd(9)}${ref}${target}`;
}

const SECTION_NAMES = Object.keys(sections).filter((s) => !s.endsWith('-child'));

const BENCH_OPTIONS = {
  section: {
    type: 'list',
    choices: Object.keys(sections),
    placeholder: 'LIST',
    description: `sections to run (default: all but ${SECTION_NAMES.filter((s) => sections[s].optIn).join(' and ')}): ${SECTION_NAMES.map((s) => `${s} (${sections[s].about})`).join('; ')}`,
  },
  stories: { type: 'string', placeholder: 'DIR', default: STORIES_DIR, description: 'the stories260K folder' },
  runC: {
    type: 'list',
    placeholder: 'PATH',
    description: "llama2.c's compiled run binaries, timed in turn with alignkit on stories260K",
  },
  model: {
    type: 'list',
    placeholder: 'NAME',
    description: 'families section: the published models to measure (default all)',
  },
  json: { type: 'boolean', description: 'print the figures as JSON' },
  out: {
    type: 'string',
    placeholder: 'DIR',
    description:
      "also write DIR/summary.json: every figure with its section, reference, ratio and target, and the run's command line, date, commit, threads, load average at the start and end, versions (`npm run readme -- --record` renders it)",
  },
} as const;

type BenchValues = OptionValues<typeof BENCH_OPTIONS>;

export const benchCommand = command({
  name: 'bench',
  summary: 'speed and memory figures',
  description:
    'Speed and memory figures, each with its reference (PyTorch when /usr/bin/python3 has torch, llama2.c with --run-c) measured in the same run and the ratio (> 1 = alignkit better). Figures vary with machine load.',
  examples: ['bench --section engine,training', 'bench --section startup --out runs/bench-startup'],
  options: BENCH_OPTIONS,
  async run(values) {
    const chosen = values.section.length ? values.section : SECTION_NAMES.filter((s) => !sections[s].optIn);
    const all: Figure[] = [];
    const record = values.out ? await benchRecord(values.out) : undefined;
    for (const name of chosen) {
      if (!values.json) console.log(`\n${name}: ${sections[name].about}`);
      const figures = await sections[name].run(values);
      all.push(...figures);
      record?.add(name, sections[name].about, figures);
      if (!values.json) for (const f of figures) console.log(formatFigure(f));
    }
    if (values.json) console.log(JSON.stringify(all));
    else
      console.log(
        '\nRatios > 1 mean alignkit is faster (or uses less memory) than the reference. Figures vary with machine load.',
      );
    if (record && !values.json) console.log(`wrote ${values.out}/summary.json`);
    return 0;
  },
});
