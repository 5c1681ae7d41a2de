/**
 * Prints, for the synthetic preference sets of test/fixtures/lc-winrate-official.json, the LC win
 * rate implied by each set's generating parameters next to alignkit's official fit (the richest
 * variant the set supports), the official reference value and alignkit's maximum-likelihood fit
 * (the README's table).
 *
 *   node --import tsx scripts/lc-winrate-table.ts
 */
import { rawWinRate } from '../src/eval/winrate/glm.ts';
import { lengthControlled } from '../src/eval/winrate/length-controlled.ts';
import { comparisonsOf, gamedOf, lcFixture } from '../test/helpers/lc-fixture.ts';

const f2 = (x: number | null) => (x === null ? '—' : x.toFixed(2));
console.log(
  '| set | n | raw win rate | LC of the generating GLM | official fit (variant) | official reference | --lc-fit mle |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const set of lcFixture.sets) {
  const comparisons = comparisonsOf(set);
  const gamed = gamedOf(set);
  const started = performance.now();
  const official = lengthControlled({ comparisons, gamed }, 'official');
  const ms = performance.now() - started;
  const mle = lengthControlled({ comparisons, gamed }, 'mle');
  const raw = rawWinRate(comparisons.flatMap((c) => (c.preference === null ? [] : [c.preference])));
  console.log(
    `| ${set.name} | ${set.preference.length} | ${f2(raw.winRate)} | ${f2(set.generating.true_lc)} | ${f2(official.lcWinRate)} (${official.variant?.replace('length_controlled_', '')}, ${ms.toFixed(0)} ms) | ${f2(set.official[official.variant!].lc)} | ${f2(mle.lcWinRate)} |`,
  );
}
