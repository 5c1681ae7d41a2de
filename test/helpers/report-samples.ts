import type { Summary } from '../../src/run/summary.ts';

/** Summaries shaped like the ones alignkit's commands write, for rendering and browser tests. */

const methods = ['sampling', 'best-of-n', 'eft', 'w2s search', 'ivg'];

export const steeringSummary: Summary = {
  kind: 'steer',
  title: 'Controlled sentiment: steering the large model with the tuned small one',
  metrics: {
    'gold reward (ivg)': 0.812,
    'gold reward (sampling)': 0.213,
    'best method': 'ivg',
    'tokens processed': 1_254_300,
    'KL (w2s)': 3.4127,
  },
  tables: [
    {
      title: 'Methods at matched compute',
      columns: ['method', 'gold reward', 'KL vs base', 'log-likelihood', 'tokens processed'],
      rows: methods.map((m, i) => [m, 0.2 + i * 0.15, i === 0 ? 0 : 1.2 * i, -42.5 - i, 100_000 * (i + 1)]),
      note: 'Gold reward: VADER compound score of the continuation, averaged over 64 prompts.',
    },
  ],
  plots: [
    {
      type: 'line',
      title: 'Gold reward vs compute',
      xLabel: 'tokens processed (log scale)',
      yLabel: 'gold reward',
      xScale: 'log',
      series: methods.map((m, i) => ({
        name: m,
        points: [1, 2, 4, 8, 16, 32].map((n): [number, number] => [n * 8000, 0.2 + (i * 0.12 * Math.log2(n + 1)) / 5]),
      })),
    },
  ],
};

export const trainingSummary: Summary = {
  kind: 'train dpo',
  title: 'DPO on the small model',
  metrics: { 'final loss': 0.4132, 'reward accuracy': 0.78, steps: 600 },
  tables: [
    {
      title: 'Final evaluation',
      columns: ['split', 'loss', 'reward margin', 'accuracy'],
      rows: [
        ['train', 0.41, 1.2, 0.8],
        ['eval', 0.48, 0.9, null],
      ],
    },
  ],
  plots: [
    {
      type: 'line',
      title: 'Loss',
      xLabel: 'step',
      yLabel: 'DPO loss',
      series: [
        {
          name: 'train',
          points: Array.from({ length: 600 }, (_, i): [number, number] => [
            i + 1,
            0.69 * Math.exp(-i / 250) + 0.3 + 0.04 * Math.sin(i * 1.7),
          ]),
        },
        {
          name: 'eval',
          points: Array.from({ length: 12 }, (_, i): [number, number] => [
            (i + 1) * 50,
            i === 5 ? (null as unknown as number) : 0.69 * Math.exp(-i / 5) + 0.4,
          ]),
        },
      ],
    },
    {
      type: 'line',
      title: 'Learning rate',
      xLabel: 'step',
      yLabel: 'learning rate',
      series: [
        {
          name: 'lr',
          points: Array.from({ length: 60 }, (_, i): [number, number] => [
            i * 10,
            5e-4 * Math.min(1, i / 6) * (1 - i / 60),
          ]),
        },
      ],
    },
  ],
};

const abilities = [
  'Context Memory',
  'Anaphora Resolution',
  'Separate Input',
  'Topic Shift',
  'Content Confusion',
  'Content Rephrasing',
  'Format Rephrasing',
  'Self-correction',
  'Self-affirmation',
  'Mathematical Reasoning',
  'General Reasoning',
  'Instruction Clarification',
  'Proactive Interaction',
];

export const mtBenchSummary: Summary = {
  kind: 'eval mt-bench-101',
  title: 'MT-Bench-101: base vs DPO',
  metrics: { 'overall (base)': 5.42, 'overall (dpo)': 6.03 },
  tables: [
    {
      title: 'Per-ability scores',
      columns: ['ability', 'base', 'dpo'],
      rows: abilities.map((a, i) => [a, 4 + (i % 5) * 0.7, 4.5 + (i % 4) * 0.8]),
    },
  ],
  plots: [
    {
      type: 'radar',
      title: 'Abilities',
      yRange: [1, 10],
      series: ['base', 'dpo'].map((m, k) => ({
        name: m,
        points: abilities.map((a, i): [string, number] => [a, 4 + k * 0.6 + ((i * (k + 3)) % 5) * 0.8]),
      })),
    },
    {
      type: 'bar',
      title: 'Per-task score',
      xLabel: 'task',
      yLabel: 'judge score (1–10)',
      series: ['base', 'dpo'].map((m, k) => ({
        name: m,
        points: ['CM', 'AR', 'SI', 'TS', 'CC', 'CR', 'FR'].map((t, i): [string, number] => [t, 3 + k + (i % 3)]),
      })),
    },
  ],
};

const concepts = [
  'Addition and subtraction of fractions',
  'Area of circles',
  'Linear equations in one variable',
  'Percentages',
  'Probability of simple events',
  'Pythagorean theorem',
  'Ratio and proportion',
  'Place value',
];

export const conceptMathSummary: Summary = {
  kind: 'eval conceptmath',
  title: 'ConceptMath (EN, middle school)',
  metrics: { accuracy: 0.4375, concepts: concepts.length },
  tables: [],
  plots: [
    {
      type: 'bar',
      title: 'Accuracy per concept',
      yLabel: 'accuracy',
      yRange: [0, 1],
      series: [
        { name: 'accuracy', points: concepts.map((c, i): [string, number] => [c, ((i * 37) % 90) / 100 + 0.05]) },
      ],
    },
  ],
};

export const modpoSummary: Summary = {
  kind: 'sweep modpo',
  title: 'MODPO sweep: helpfulness vs harmlessness',
  metrics: { 'weights tried': 6 },
  tables: [],
  plots: [
    {
      type: 'scatter',
      title: 'Pareto front',
      xLabel: 'reward: helpful',
      yLabel: 'reward: harmless',
      series: [
        {
          name: 'all models',
          points: [
            [-1.2, 0.9],
            [-0.4, 0.7],
            [0.1, 0.4],
            [0.6, -0.1],
            [0.9, -0.8],
            [0.2, -0.3],
            [-0.5, 0.1],
          ],
        },
        {
          name: 'front',
          mode: 'line+markers',
          points: [
            [-1.2, 0.9],
            [-0.4, 0.7],
            [0.1, 0.4],
            [0.6, -0.1],
            [0.9, -0.8],
          ],
        },
      ],
    },
  ],
};

export const probeSummary: Summary = {
  kind: 'probe',
  title: 'Emergent response planning: probes per layer',
  metrics: { 'best layer': 5, 'best R²': 0.61 },
  tables: [],
  plots: [
    {
      type: 'line',
      title: 'Probe quality per layer',
      xLabel: 'layer',
      yLabel: 'R² / accuracy',
      yRange: [0, 1],
      series: ['length (R²)', 'sentiment (acc)', 'ends with question (acc)'].map((a, k) => ({
        name: a,
        points: Array.from({ length: 8 }, (_, l): [number, number] => [
          l,
          0.2 + k * 0.1 + 0.4 * Math.sin((l / 7) * Math.PI),
        ]),
      })),
    },
  ],
};

const attacks = ['none', 'role-play jailbreak', 'prefix injection', 'base64'];
const defenses = ['none', 'system prompt', 'self-reminder', 'output filter'];

export const safetySummary: Summary = {
  kind: 'eval safety',
  title: 'Harmful rate under attacks and defenses',
  metrics: { 'harmful rate (no attack, no defense)': 0.05 },
  tables: [
    {
      title: 'Harmful rate (attack × defense)',
      columns: ['attack', ...defenses],
      rows: attacks.map((a, i) => [a, ...defenses.map((_, j) => Math.max(0, 0.05 + 0.2 * i - 0.07 * j))]),
    },
  ],
  plots: [
    {
      type: 'heatmap',
      title: 'Harmful rate',
      xLabel: 'defense',
      yLabel: 'harmful rate',
      yRange: [0, 1],
      series: attacks.map((a, i) => ({
        name: a,
        points: defenses.map((d, j): [string, number] => [d, Math.max(0, 0.05 + 0.2 * i - 0.07 * j)]),
      })),
    },
  ],
};

export const allSamples: Record<string, Summary> = {
  steering: steeringSummary,
  training: trainingSummary,
  'mt-bench-101': mtBenchSummary,
  conceptmath: conceptMathSummary,
  modpo: modpoSummary,
  probes: probeSummary,
  safety: safetySummary,
};

export const sampleConfig = {
  command: 'steer',
  model: 'embedded:large',
  guide: 'runs/dpo-small',
  methods: methods,
  seed: 7,
  decode: { maxTokens: 32, temperature: 0.7, chunk: 8, beams: 4 },
  versions: { alignkit: '0.1.0', node: 'v20.20.2', 'onnxruntime-node': '1.30.0' },
  writtenAt: '2025-06-01T14:03:11.000Z',
};
