import type { LanguageModel } from '../../lm/language-model.ts';
import type { RunDir } from '../../report/run-dir.ts';
import type { Summary, Table } from '../../report/summary.ts';
import type { ChatMessage } from '../../tokenizers/tokenizer.ts';
import { inputError } from '../../errors.ts';
import { itemSeed, sampleChat, type GenerationSettings } from '../chat.ts';
import type { JudgeFailure } from '../judge.ts';
import { readRecords, stringField } from '../records-file.ts';
import { runStaged, type ProgressCallback, type ResponseRecord } from '../staged-run.ts';
import { failuresTable, percent } from '../summary-parts.ts';
import type { Attack } from './attacks.ts';
import type { GuardClassifier, SafetyClassifier } from './classifiers.ts';
import { FILTER_REFUSAL, type Defense } from './defenses.ts';
import type { SafetyPrompt } from './prompts.ts';

/** One cell item: a prompt under an attack and a defense. */
export interface SafetyItem {
  /** `<attack>|<defense>|<prompt key>` */
  key: string;
  prompt: SafetyPrompt;
  attack: string;
  defense: string;
}

export interface SafetyRunOptions {
  /** the items to run; build them with `safetyGrid` (or from a responses file) */
  items: readonly SafetyItem[];
  attacks?: readonly Attack[];
  defenses?: readonly Defense[];
  runDir: RunDir;
  /** the target model (needed by every attack that does not sample its own responses) */
  model?: LanguageModel;
  generation?: GenerationSettings;
  /** stage 2: decides whether each final response is harmful (absent = generate only) */
  classifier?: SafetyClassifier;
  /** the guard judge of the input/output filter defenses */
  filter?: GuardClassifier;
  responses?: ReadonlyMap<string, ResponseRecord>;
  concurrency: number;
  onProgress?: ProgressCallback;
}

/** A response with what the defenses did, as stored in responses.jsonl. */
export interface SafetyResponse extends ResponseRecord {
  attack: string;
  defense: string;
  prompt: string;
  /** the input filter blocked the request (the model was not asked) */
  blocked?: boolean;
  /** the output filter withheld the model's response (kept in `unfiltered`) */
  filtered?: boolean;
  unfiltered?: string;
  /** the filter judge could not be parsed; the filter let the item through */
  filterError?: string;
  filterRaws?: string[];
}

export interface SafetyResult {
  attack: string;
  defense: string;
  source: string;
  /** null = the classifier's judgement failed */
  harmful: boolean | null;
  categories?: string[];
  blocked?: boolean;
  filtered?: boolean;
  error?: string;
  raws?: string[];
}

export interface SafetyCell {
  attack: string;
  defense: string;
  harmful: number;
  judged: number;
  failures: number;
  /** harmful / judged */
  rate: number | null;
}

export interface SafetyRun {
  summary: Summary;
  cells: SafetyCell[];
  failures: JudgeFailure[];
  filterFailures: JudgeFailure[];
}

/** The ED paper's sampling settings (temperature 0.7, 64 new tokens). */
export const defaultSafetyGeneration: GenerationSettings = { maxNewTokens: 64, temperature: 0.7, seed: 0 };

/** Every prompt under every attack and defense. */
export function safetyGrid(
  prompts: readonly SafetyPrompt[],
  attacks: readonly Attack[],
  defenses: readonly Defense[],
): SafetyItem[] {
  return attacks.flatMap((a) =>
    defenses.flatMap((d) =>
      prompts.map((p) => ({ key: `${a.name}|${d.name}|${p.key}`, prompt: p, attack: a.name, defense: d.name })),
    ),
  );
}

/** Reads existing responses to score: JSONL/JSON of {prompt, response, attack?, defense?}. */
export function loadSafetyResponses(path: string): { items: SafetyItem[]; responses: Map<string, ResponseRecord> } {
  const items: SafetyItem[] = [];
  const responses = new Map<string, ResponseRecord>();
  readRecords(path).forEach((record, index) => {
    const prompt = stringField(record, 'prompt');
    const response = stringField(record, 'response');
    const attack = record.value.attack === undefined ? 'none' : stringField(record, 'attack');
    const defense = record.value.defense === undefined ? 'none' : stringField(record, 'defense');
    const key = `${attack}|${defense}|responses:${index}`;
    items.push({ key, prompt: { key: `responses:${index}`, source: 'responses', index, prompt }, attack, defense });
    responses.set(key, { ...record.value, key, response, attack, defense, prompt });
  });
  return { items, responses };
}

/**
 * Harmful rate under attacks × defenses: stage 1 applies the attack, the defense's input
 * filter, the model (or the attack's own sampler) with the defense's system prompt, and the
 * output filter; stage 2 classifies the final response. Responses that do not depend on the
 * defense's filters are generated once and shared between defenses.
 */
export async function runSafety(options: SafetyRunOptions): Promise<SafetyRun> {
  const { model, classifier, filter } = options;
  const generation = options.generation ?? defaultSafetyGeneration;
  const attacks = new Map((options.attacks ?? []).map((a) => [a.name, a]));
  const defenses = new Map<string, Defense>((options.defenses ?? []).map((d) => [d.name, d]));
  const generating = !options.responses;
  if (generating) {
    for (const item of options.items) {
      const attack = attacks.get(item.attack);
      const defense = defenses.get(item.defense);
      if (!attack || !defense) throw inputError(`item ${item.key}: attack or defense not configured`);
      if (!attack.respond && !model) throw inputError(`the "${attack.name}" attack needs a target model (--model)`);
      if ((defense.inputFilter || defense.outputFilter) && !filter)
        throw inputError(`the ${defense.name} defense needs a guard judge (--judge or --filter-judge)`);
    }
  }

  const shared = new Map<string, Promise<string>>();
  const respond = (
    item: SafetyItem,
    attack: Attack,
    userMessage: string,
    systemPrompt: string | undefined,
  ): Promise<string> => {
    const id = JSON.stringify([item.prompt.key, attack.name, systemPrompt ?? null]);
    let pending = shared.get(id);
    if (!pending) {
      const seed = itemSeed(generation.seed, `${item.prompt.key}|${attack.name}`);
      const messages: ChatMessage[] = [
        ...(systemPrompt ? [{ role: 'system', content: systemPrompt }] : []),
        { role: 'user', content: userMessage },
      ];
      pending = attack.respond
        ? attack.respond(item.prompt.prompt, generation, seed, systemPrompt)
        : sampleChat(model!, messages, generation, seed);
      shared.set(id, pending);
      pending.catch(() => shared.delete(id));
    }
    return pending;
  };

  const generate = async (item: SafetyItem): Promise<SafetyResponse> => {
    const attack = attacks.get(item.attack)!;
    const defense = defenses.get(item.defense)!;
    const userMessage = attack.userMessage(item.prompt.prompt);
    const record: SafetyResponse = {
      key: item.key,
      attack: item.attack,
      defense: item.defense,
      prompt: item.prompt.prompt,
      response: '',
    };
    const filterFailed = (error: string, raws: string[]) => {
      record.filterError = error;
      record.filterRaws = raws;
    };
    if (defense.inputFilter) {
      const v = await filter!.classifyPrompt(userMessage);
      if (!v.ok) filterFailed(v.error, v.raws);
      else if (v.value.unsafe) return { ...record, response: FILTER_REFUSAL, blocked: true };
    }
    const response = await respond(item, attack, userMessage, defense.systemPrompt);
    if (defense.outputFilter) {
      const v = await filter!.classifyResponse(userMessage, response);
      if (!v.ok) filterFailed(v.error, v.raws);
      else if (v.value.unsafe) return { ...record, response: FILTER_REFUSAL, filtered: true, unfiltered: response };
    }
    return { ...record, response };
  };

  const { results, responses } = await runStaged<SafetyItem, SafetyResult>({
    runDir: options.runDir,
    items: options.items,
    keyOf: (i) => i.key,
    given: options.responses,
    generate: generating ? generate : undefined,
    score: classifier
      ? async (item, r) => {
          const base = {
            attack: item.attack,
            defense: item.defense,
            source: item.prompt.source,
            ...(r.blocked ? { blocked: true } : {}),
            ...(r.filtered ? { filtered: true } : {}),
          };
          const v = await classifier.classifyResponse(item.prompt.prompt, r.response);
          return v.ok
            ? { ...base, harmful: v.value.unsafe, ...(v.value.categories ? { categories: v.value.categories } : {}) }
            : { ...base, harmful: null, error: v.error, raws: v.raws };
        }
      : undefined,
    isFailure: (r) => r.harmful === null,
    concurrency: options.concurrency,
    onProgress: options.onProgress,
  });

  const filterFailures: JudgeFailure[] = [...responses.values()]
    .filter((r) => typeof r.filterError === 'string')
    .map((r) => ({ key: r.key, error: `filter: ${r.filterError}`, raws: (r.filterRaws as string[]) ?? [] }));
  const attackNames = [...new Set(options.items.map((i) => i.attack))];
  const defenseNames = [...new Set(options.items.map((i) => i.defense))];
  if (!classifier) {
    return {
      cells: [],
      failures: [],
      filterFailures,
      summary: {
        kind: 'eval safety',
        title: `Safety responses${model ? ` — ${model.id}` : ''}`,
        metrics: { responses: responses.size, filter_failures: filterFailures.length },
        tables: filterFailures.length ? [failuresTable(filterFailures)] : [],
        plots: [],
      },
    };
  }
  const cells: SafetyCell[] = attackNames.flatMap((attack) =>
    defenseNames.map((defense) => {
      const rs = results.filter((r) => r.attack === attack && r.defense === defense);
      const judged = rs.filter((r) => r.harmful !== null);
      const harmful = judged.filter((r) => r.harmful).length;
      return {
        attack,
        defense,
        harmful,
        judged: judged.length,
        failures: rs.length - judged.length,
        rate: judged.length ? harmful / judged.length : null,
      };
    }),
  );
  const failures: JudgeFailure[] = results
    .filter((r) => r.harmful === null)
    .map((r) => ({ key: r.key, error: r.error ?? 'unparsed', raws: r.raws ?? [] }));
  const summary = safetySummary({
    cells,
    attackNames,
    defenseNames,
    failures,
    filterFailures,
    model: model?.id,
    classifier: classifier.id,
    prompts: new Set(options.items.map((i) => i.prompt.key)).size,
  });
  return { summary, cells, failures, filterFailures };
}

function safetySummary(o: {
  cells: SafetyCell[];
  attackNames: string[];
  defenseNames: string[];
  failures: JudgeFailure[];
  filterFailures: JudgeFailure[];
  model?: string;
  classifier: string;
  prompts: number;
}): Summary {
  const cell = (a: string, d: string) => o.cells.find((c) => c.attack === a && c.defense === d)!;
  const plain = o.cells.find((c) => c.attack === 'none' && c.defense === 'none');
  const worst = o.cells.filter((c) => c.rate !== null).sort((a, b) => b.rate! - a.rate!)[0];
  const tables: Table[] = [
    {
      title: 'Harmful rate % (attack × defense)',
      columns: ['attack', ...o.defenseNames],
      rows: o.attackNames.map((a) => [a, ...o.defenseNames.map((d) => percent(cell(a, d).rate))]),
      note: `harmful rate = responses the classifier (${o.classifier}) flags / responses it judged; ${o.prompts} prompt(s) per cell`,
    },
    {
      title: 'Harmful / judged (classifier failures)',
      columns: ['attack', ...o.defenseNames],
      rows: o.attackNames.map((a) => [
        a,
        ...o.defenseNames.map((d) => {
          const c = cell(a, d);
          return `${c.harmful}/${c.judged}${c.failures ? ` (${c.failures} failed)` : ''}`;
        }),
      ]),
    },
    failuresTable(o.failures),
  ];
  if (o.filterFailures.length)
    tables.push({
      ...failuresTable(o.filterFailures),
      title: `Filter judge failures (${o.filterFailures.length}) — the filter let these items through`,
    });
  return {
    kind: 'eval safety',
    title: `Safety — harmful rate${o.model ? ` of ${o.model}` : ''} (classifier ${o.classifier})`,
    metrics: {
      harmful_rate: percent(plain?.rate ?? null),
      worst_cell: worst ? `${worst.attack} × ${worst.defense}: ${percent(worst.rate)}%` : null,
      prompts: o.prompts,
      judge_failures: o.failures.length,
      filter_failures: o.filterFailures.length,
      classifier: o.classifier,
      ...(o.model ? { model: o.model } : {}),
    },
    tables,
    plots: [
      {
        type: 'bar',
        title: 'Harmful rate by attack and defense',
        xLabel: 'attack',
        yLabel: 'harmful %',
        series: o.defenseNames.map((d) => ({
          name: d,
          points: o.attackNames.map((a): [string, number] => [a, percent(cell(a, d).rate) ?? 0]),
        })),
      },
    ],
    failures: [...o.failures, ...o.filterFailures],
  };
}
