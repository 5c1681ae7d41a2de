import type { ChatMessage } from '../../tokenizers/tokenizer.ts';
import { isChinese, type ConceptMathItem } from './data.ts';

/**
 * The paper's three prompt settings. ZS is the raw question. The ZS-CoT trigger wording is not
 * published (benchmarks.md §2.4); we use the standard "Let's think step by step." and its Chinese
 * equivalent. FS uses our own short demonstrations in the reference's answer style ("Therefore,
 * the answer is X." / "因此，答案是X。"), not the paper's five.
 */
export type PromptStyle = 'zs' | 'zs-cot' | 'fs';
export const PROMPT_STYLES: readonly PromptStyle[] = ['zs', 'zs-cot', 'fs'];

const COT = { en: "Let's think step by step.", zh: '让我们一步一步地思考。' };

const DEMOS: Record<'en' | 'zh', [string, string][]> = {
  en: [
    [
      'Tom has 3 boxes with 12 pencils in each box. He gives away 9 pencils. How many pencils does he have left?',
      'Tom starts with 3 × 12 = 36 pencils. After giving away 9 he has 36 − 9 = 27. Therefore, the answer is 27.',
    ],
    [
      'A rectangle is 8 cm long and 5 cm wide. What is its area in square centimeters?',
      'The area of a rectangle is length × width = 8 × 5 = 40. Therefore, the answer is 40.',
    ],
    [
      'Solve for x: 2x + 7 = 19.',
      'Subtract 7 from both sides: 2x = 12. Divide by 2: x = 6. Therefore, the answer is 6.',
    ],
  ],
  zh: [
    ['小明有 24 颗糖，平均分给 4 个同学，每个同学分到几颗？', '24 ÷ 4 = 6，每个同学分到 6 颗。因此，答案是6。'],
    ['一个正方形的边长是 7 厘米，它的周长是多少厘米？', '正方形的周长 = 4 × 边长 = 4 × 7 = 28 厘米。因此，答案是28。'],
    ['解方程：3x − 5 = 10。', '两边同时加 5 得 3x = 15，两边同时除以 3 得 x = 5。因此，答案是5。'],
  ],
};

export function conceptMathMessages(item: ConceptMathItem, style: PromptStyle): ChatMessage[] {
  const lang = isChinese(item) ? 'zh' : 'en';
  if (style === 'zs') return [{ role: 'user', content: item.question }];
  if (style === 'zs-cot') return [{ role: 'user', content: `${item.question}\n${COT[lang]}` }];
  return [
    ...DEMOS[lang].flatMap(([q, a]): ChatMessage[] => [
      { role: 'user', content: q },
      { role: 'assistant', content: a },
    ]),
    { role: 'user', content: item.question },
  ];
}
