import type { LanguageModel, Usage } from '../lm/language-model.ts';

/** Tokens each model processed during one run, keyed by role ("large", "tuned+untuned" when one model plays both). */
export type UsageByRole = Record<string, Usage>;

export interface UsageSource {
  readonly usage?: Usage;
}

/**
 * Snapshots the cumulative `usage` counters of a run's models so the run can report what it
 * alone cost. A model that plays several roles is counted once, under the joined role names.
 */
export class UsageMeter {
  private readonly entries: { role: string; source: UsageSource; start: Usage }[] = [];

  constructor(models: Record<string, UsageSource | LanguageModel | undefined>) {
    for (const [role, source] of Object.entries(models)) {
      if (!source?.usage) continue;
      const seen = this.entries.find((e) => e.source === source);
      if (seen) seen.role += `+${role}`;
      else this.entries.push({ role, source, start: { ...source.usage } });
    }
  }

  delta(): UsageByRole {
    const out: UsageByRole = {};
    for (const { role, source, start } of this.entries) {
      const now = source.usage!;
      out[role] = {
        promptTokens: now.promptTokens - start.promptTokens,
        generatedTokens: now.generatedTokens - start.generatedTokens,
        processedTokens: now.processedTokens - start.processedTokens,
      };
    }
    return out;
  }
}

export function addUsage(a: UsageByRole, b: UsageByRole): UsageByRole {
  const out: UsageByRole = { ...a };
  for (const [role, u] of Object.entries(b)) {
    const prev = out[role] ?? { promptTokens: 0, generatedTokens: 0, processedTokens: 0 };
    out[role] = {
      promptTokens: prev.promptTokens + u.promptTokens,
      generatedTokens: prev.generatedTokens + u.generatedTokens,
      processedTokens: prev.processedTokens + u.processedTokens,
    };
  }
  return out;
}
