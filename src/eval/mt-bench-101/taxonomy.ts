/** MT-Bench-101's three-tier taxonomy: 3 abilities, 7 sub-abilities, 13 tasks (benchmarks.md §1.2). */
export const MT_TASKS = ['CM', 'SI', 'AR', 'TS', 'CC', 'CR', 'FR', 'SC', 'SA', 'MR', 'GR', 'IC', 'PI'] as const;
export type MtTask = (typeof MT_TASKS)[number];

export interface TaskInfo {
  name: string;
  /** tier 2 */
  ability: string;
  /** tier 1 */
  category: 'Perceptivity' | 'Adaptability' | 'Interactivity';
}

export const TASK_INFO: Record<MtTask, TaskInfo> = {
  CM: { name: 'Context Memory', ability: 'Memory', category: 'Perceptivity' },
  SI: { name: 'Separate Input', ability: 'Understanding', category: 'Perceptivity' },
  AR: { name: 'Anaphora Resolution', ability: 'Understanding', category: 'Perceptivity' },
  TS: { name: 'Topic Shift', ability: 'Interference', category: 'Perceptivity' },
  CC: { name: 'Content Confusion', ability: 'Interference', category: 'Perceptivity' },
  CR: { name: 'Content Rephrasing', ability: 'Rephrasing', category: 'Adaptability' },
  FR: { name: 'Format Rephrasing', ability: 'Rephrasing', category: 'Adaptability' },
  SC: { name: 'Self-correction', ability: 'Reflection', category: 'Adaptability' },
  SA: { name: 'Self-affirmation', ability: 'Reflection', category: 'Adaptability' },
  MR: { name: 'Mathematical Reasoning', ability: 'Reasoning', category: 'Adaptability' },
  GR: { name: 'General Reasoning', ability: 'Reasoning', category: 'Adaptability' },
  IC: { name: 'Instruction Clarification', ability: 'Questioning', category: 'Interactivity' },
  PI: { name: 'Proactive Interaction', ability: 'Questioning', category: 'Interactivity' },
};

/** Tasks whose first turn is context only (its golden answer is what later turns build on). */
export const SKIP_FIRST_TASKS: ReadonlySet<MtTask> = new Set<MtTask>(['CM', 'AR', 'CR', 'FR', 'SC', 'SA']);

/** Tasks whose judge sees the golden answer of the judged turn as the reference solution. */
export const REFERENCE_TASKS: ReadonlySet<MtTask> = new Set<MtTask>(['MR', 'GR']);

export const isMtTask = (s: unknown): s is MtTask =>
  typeof s === 'string' && (MT_TASKS as readonly string[]).includes(s);
