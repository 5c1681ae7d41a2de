/**
 * MT-Bench-101 judge prompts. The structure follows the released evaluation code
 * (benchmarks.md §1.5): system = preamble + task rubric + score-format block; user = the
 * transcript with golden history, the model's reply to the last turn, and for MR/GR the golden
 * reply of that turn as the reference solution. The notes give each rubric's gist, not its text,
 * so the rubric texts below are our own faithful rewrites: the same criteria, the same
 * 1-3 / 4-6 / 7-9 / 10 bands and the same request for a rationale. CR and FR share one rubric, as
 * in the reference.
 */
import type { ChatMessage } from '../../tokenizers/tokenizer.ts';
import type { JudgedTurn } from './data.ts';
import { REFERENCE_TASKS, type MtTask } from './taxonomy.ts';

export const JUDGE_PREAMBLE =
  "Please act as an impartial judge. In the conversation below, only the reply of the 'assistant' in the LAST round " +
  'is the output of the AI assistant under evaluation. Score that reply on a scale of 1 to 10, where 1 means it ' +
  'completely fails the criteria and 10 means it fully meets every criterion. The earlier rounds are ground-truth ' +
  'history: do NOT evaluate them.\n\n';

export const SCORE_FORMAT =
  "\n\nRemember: only the 'assistant' reply in the LAST round is evaluated. You must give your explanation first. " +
  "Then give the score strictly in this format: 'Rating: [[score]]', for example 'Rating: [[6]]'. " +
  'The dialogue to judge is delimited like this:\n***\nDIALOGUE\n***';

const bands = (low: string, mid: string, high: string, top: string) =>
  `Scoring guidelines:\n- 1-3 points: ${low}\n- 4-6 points: ${mid}\n- 7-9 points: ${high}\n- 10 points: ${top}\n`;

const rephrasing =
  "This evaluates the AI assistant's ability to rewrite earlier content. Criteria:\n" +
  "1. The rewritten reply keeps the main idea of the assistant's reply in the first round.\n" +
  '2. The rewritten reply satisfies the rewriting requirement the Human states in the current round.\n\n' +
  bands(
    'the rewrite departs substantially from the original main idea or ignores the rewriting requirement.',
    'the rewrite keeps the main idea but meets the requirement only in part, or reads awkwardly.',
    'the rewrite keeps the main idea and meets most of the requirement, with small gaps or stylistic flaws.',
    'the rewrite preserves the main idea exactly and meets every requirement, with the changes integrated naturally.',
  ) +
  '\nGive a short justification and then the score. Judge the reply; do not answer the question in the dialogue yourself.';

const reasoning = (kind: 'mathematical' | 'general') =>
  `This evaluates the AI assistant's ${kind} reasoning on problems posed by the Human, which may rely on conditions ` +
  'given in earlier rounds. Criteria:\n' +
  "1. Check the correctness of the assistant's answer against the reference solution given as '### reference solution ###'.\n" +
  '2. Check that the reasoning is complete, step by step, clear and logically sound.\n' +
  '3. Check that relevant information from the earlier rounds is used where it affects the problem or its solution.\n' +
  '4. Check that the solution is communicated so the Human can follow and learn from it.\n\n' +
  bands(
    'the answer is wrong and/or the reasoning is unclear, skips key steps or is unsound.',
    'the answer is partly correct, with small errors, or some steps lack detail or clarity.',
    'the answer is correct and the reasoning covers most necessary steps clearly.',
    'the answer is fully correct and the step-by-step reasoning is complete, rigorous and easy to follow.',
  ) +
  '\nWeigh above all whether the answer is right and how well the reasoning is laid out. Give a rationale that addresses ' +
  'the correctness of the answer, compared with the reference solution, and the quality of the reasoning.';

export const RUBRICS: Record<MtTask, string> = {
  CM:
    "This evaluates the AI assistant's conversational memory: recalling and using information stated earlier in the dialogue. Criteria:\n" +
    '1. Does the assistant recall the relevant details from earlier rounds when answering the Human?\n' +
    '2. Does it integrate the recalled information coherently, so that it adds value to the reply?\n' +
    '3. Does it stay consistent with the context set by the earlier exchanges?\n' +
    '4. Does its recall keep the dialogue flowing logically, without repetition or contradiction?\n\n' +
    bands(
      'poor recall of earlier details, leading to inconsistent or contradictory replies and a loss of context.',
      'some recall, but integrated only sporadically or partially, so the reply is not fully coherent with the context.',
      'reliable recall and use of earlier information, with minor lapses that do not disturb the conversation.',
      'excellent recall, weaving earlier details into the reply naturally and preserving the context completely.',
    ) +
    '\nIf recalling earlier information was not needed for this exchange, not referring to it must not lower the score. ' +
    'Give a rationale explaining how the use of earlier information meets the criteria.',
  SI:
    'This evaluates how the AI assistant follows an instruction whose content arrives separately. Criteria:\n' +
    '1. In the first round the Human states a task without the material to apply it to. A good reply asks for that material or waits for it, instead of attempting the task.\n' +
    '2. From the second round on, the Human gives only the material, without repeating the task. A good reply then carries out the task on that material directly and correctly.\n\n' +
    bands(
      'the assistant does not understand the task, and neither asks for the material nor produces anything related to the task.',
      'the assistant understands part of the task, but the reply could be more specific or more relevant.',
      'the reply is useful, mostly correct and on target, with minor oversights.',
      "the assistant understands the task perfectly and gives a complete and accurate answer that fully meets the Human's expectation.",
    ) +
    '\nGive a brief justification saying how the reply meets or misses these criteria.',
  AR:
    "This evaluates the AI assistant's understanding of references (pronouns and phrases that point back to earlier content). Criteria:\n" +
    "1. The reply interprets correctly what the Human's references point to in the earlier dialogue, ideally making the referent explicit.\n" +
    '2. The reply answers the current question accurately, without mistakes caused by misreading a reference.\n\n' +
    bands(
      'the references are not recognized or are misread, so the reply is inaccurate or unrelated to the earlier content.',
      'the references are partly understood, but the reply has some inaccuracies or does not use them fully.',
      'the references are understood well, with only small inaccuracies or omissions in linking to the earlier dialogue.',
      'the references are understood and used perfectly; the reply fits both the earlier content and the current question precisely.',
    ) +
    '\nExplain, beside the score, how the reply shows that the references were or were not understood.',
  TS:
    "This evaluates the AI assistant's handling of an abrupt change of topic by the Human. Criteria:\n" +
    '1. The assistant notices the new topic and does not drift back to, or get stuck on, the previous one.\n' +
    '2. The reply is relevant to the new topic and not distorted by the content of earlier rounds.\n' +
    '3. The reply is coherent and appropriate for the new subject.\n' +
    '4. The reply answers the new topic fully and insightfully, as a clean break from the earlier thread.\n\n' +
    bands(
      'the assistant struggles with the shift, returns to or is shaped by the old topic, and the reply is irrelevant or confused.',
      'the assistant adapts partly, but traces of the earlier topic make the reply less focused or only partly relevant.',
      'the assistant adapts well, with little influence from the earlier topic, and the reply is largely relevant.',
      'the assistant switches seamlessly and engages fully with the new subject, with no irrelevant carry-over.',
    ) +
    '\nIf there is no real topic shift, or continuity with the earlier content is warranted, keeping coherence must not lower the score. ' +
    'Give a rationale about how well the transition was handled.',
  CC:
    "This evaluates the AI assistant's resistance to interference from similar-looking earlier questions and answers. Criteria:\n" +
    "1. The reply answers exactly the Human's question in the current round, truthfully and accurately.\n" +
    '2. The reply is not swayed by the question-and-answer pattern of the earlier rounds and stays focused on the current question.\n\n' +
    bands(
      'the reply is largely driven by the earlier exchanges, misses the current question or states false information.',
      'the reply resists somewhat but carries irrelevant details from earlier rounds or answers the question only in part.',
      'the reply mostly resists interference and answers the current question accurately, with only slight leftovers.',
      'the reply is entirely free of interference, focused only on the current question, accurate and relevant.',
    ) +
    '\nGive a brief justification focused on these two criteria.',
  CR: rephrasing,
  FR: rephrasing,
  SC:
    "This evaluates the AI assistant's self-correction after the Human points out an error in its previous reply. Criteria:\n" +
    "1. The assistant re-examines its previous reply seriously and engages with the Human's remark.\n" +
    '2. When the Human is right about the error, the assistant admits it, corrects it and gives an updated, accurate answer.\n\n' +
    bands(
      'the assistant does not recognize or address the error and does not correct its answer.',
      'the assistant recognizes the error but corrects it only in part, or the updated answer is incomplete.',
      'the assistant acknowledges the error and corrects it substantially, giving an effectively updated answer.',
      'the assistant acknowledges the error promptly and gives a complete and precise corrected answer.',
    ) +
    "\nGive a justification about how the reply to the Human's correction shows (or fails to show) self-correction.",
  SA:
    'This evaluates whether the AI assistant keeps a correct answer when the Human challenges it wrongly. Criteria:\n' +
    "1. The assistant engages with the Human's challenge and assesses whether it is valid.\n" +
    '2. When the challenge rests on wrong information or assumptions, the assistant confidently keeps its original answer and explains clearly why.\n\n' +
    bands(
      'the assistant does not engage with the challenge properly, or abandons its correct answer without good reason.',
      'the assistant engages with the challenge but sounds unsure and justifies its original answer weakly.',
      'the assistant correctly judges the challenge to be wrong and keeps its answer with a clear, well-supported justification.',
      'the assistant keeps its answer with full confidence and a convincing explanation that refutes the incorrect challenge.',
    ) +
    '\nGive a justification about how the reply reflects confidence in, and understanding of, the original answer.',
  MR: reasoning('mathematical'),
  GR: reasoning('general'),
  IC:
    "This evaluates the AI assistant's use of clarifying counter-questions when the Human's query is vague or incomplete. Criteria:\n" +
    "1. Decide whether the Human's query is ambiguous or lacks details that call for a clarifying question.\n" +
    '2. If it does, judge how well the assistant asks about exactly what is ambiguous or missing.\n' +
    '3. Once the Human has supplied the missing conditions, judge whether the assistant gives a correct, detailed and complete answer.\n\n' +
    bands(
      'the assistant misses the need for a clarifying question, or asks one badly, and its answers do not fit the query or lack detail.',
      'the assistant sees the need but asks sub-optimally, resolving the gaps only in part; later answers lack detail or accuracy.',
      'the assistant asks well-targeted questions about the missing or unclear points and then answers the clarified query accurately and in detail.',
      'the assistant judges perfectly when to ask, asks precisely, and after clarification answers with complete, accurate detail.',
    ) +
    '\nIf no clarifying question was needed and the assistant asked none, that must not lower the score. ' +
    'Give a rationale about whether asking (or not asking) was right and how the replies meet the criteria.',
  PI:
    "This evaluates the AI assistant's proactive interaction: keeping the dialogue going instead of only answering. Criteria:\n" +
    '1. Does the assistant take initiative beyond a direct answer, such as relevant follow-up questions or new topics?\n' +
    '2. Does it keep the conversation flowing and invite the Human to share more?\n' +
    '3. Are its interactive elements fitting for the dialogue, making it more natural rather than derailing it?\n' +
    "4. Does it stay responsive to the Human's input and direction while being proactive?\n\n" +
    bands(
      'minimal replies that do not invite further dialogue, or interaction that is misplaced and disrupts the conversation.',
      'some questions or suggestions, but the momentum is not kept up consistently or the Human is not fully engaged.',
      'regular, relevant questions and topics that keep the conversation going naturally.',
      'excellent interaction that enriches the conversation and engages the Human without dominating it.',
    ) +
    '\nConsider the balance between leading the conversation and letting the Human steer it. Give a rationale about how the ' +
    "assistant's proactive contributions meet the criteria.",
};

/** The transcript format of the reference: golden rounds, then the judged round's user message. */
export function transcript(turn: JudgedTurn): string {
  let text = '';
  for (const m of turn.messages) text += m.role === 'user' ? `\n\n Human: ${m.content}\n\nAssistant: ` : m.content;
  return text;
}

/**
 * The judge conversation for one turn. For MR and GR the reference solution is the golden reply
 * of the judged turn itself (the released loader passes the stringified message list instead,
 * which is a bug; see the report).
 */
export function judgeMessages(turn: JudgedTurn, prediction: string): ChatMessage[] {
  const system = JUDGE_PREAMBLE + RUBRICS[turn.task] + SCORE_FORMAT;
  let user = `The dialogue to be judged is:\n***\n${transcript(turn)}${prediction}\n***`;
  if (REFERENCE_TASKS.has(turn.task)) user += `\n\nThe reference solution is:\n###\n${turn.golden}\n###\n\n`;
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}
