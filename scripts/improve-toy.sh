#!/bin/bash
# The README's toy ConceptMath loop (see "Concept-targeted fine-tuning"): stories260K fine-tuned
# on addition, subtraction and comparison, then `alignkit improve` on its weakest concept at
# --general-ratio 0, 1 and 2, and the table of the three runs in OUT/summary.json
# (npm run readme -- --record improve-toy OUT "scripts/improve-toy.sh OUT"). A few minutes on 2 cores.
#
#   scripts/improve-toy.sh [OUT]        (default runs/improve-toy; needs `npm run build`)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/improve-toy}
M=data/stories260K/stories260K.bin
T=data/stories260K/tok512.bin
alignkit() { node bin/alignkit.mjs "$@"; }

node --import tsx test/helpers/toy-arithmetic.ts "$OUT/toy"
alignkit train sft --model $M --tokenizer $T --data "$OUT/toy/general.jsonl" --out "$OUT/toybase" \
  --lr 3e-3 --steps 600 --batch-size 16 --schedule cosine --warmup 20 --seed 0
for ratio in 0 1 2; do
  alignkit improve --model "$OUT/toybase/model" --eval "$OUT/toy/benchmark.jsonl" --pool "$OUT/toy/pool.jsonl" \
    --weakest 1 --out "$OUT/toyimp-$ratio" --max-new-tokens 40 --lr 3e-3 --steps 300 --batch-size 16 \
    --per-concept 400 --general-ratio $ratio
done
node --import tsx scripts/improve-ratio-table.ts --out "$OUT" "$OUT"/toyimp-{0,1,2}
