/**
 * Evaluates the small arithmetic/LaTeX expressions ConceptMath answers are written in, as the
 * reference's sympy `parse_latex` + `simplify` read them (sympy's ANTLR LaTeX grammar): numbers,
 * + - * / : ^ and !, parentheses, brackets, braces and |absolute values|, \frac \dfrac \tfrac (braced, or single
 * digits: \frac12), \sqrt{…} and \sqrt[n]{…}, \times \cdot \div, implicit multiplication
 * ("2\sqrt{3}", "3(4)", binding tighter than / as in the grammar), \left and \right ignored.
 *
 * Like the reference, it reads the *leading* expression: the grammar has no end-of-input rule,
 * so its parser stops before the first token that cannot continue what it has read ("0.30, and
 * three pens cost" is 0.3, "10 -" is 10, "3)4" is 3), but a character its lexer does not know,
 * met at that point, is an error. Anything sympy would keep symbolic (letters, relations) or
 * cannot parse gives undefined, which the matcher treats as "not close", as the reference's
 * failed comparisons do. test/fixtures/conceptmath-simplify-golden.json holds sympy's own values.
 */
type Token =
  | { kind: 'num'; text: string }
  | { kind: 'op'; value: string }
  | { kind: 'cmd'; value: string }
  /** a token the grammar knows that cannot continue an expression here: the leading expression ends before it */
  | { kind: 'stop' }
  /** a character the lexer does not know, or one that makes the value symbolic (a letter, a relation) */
  | { kind: 'invalid' };

const COMMANDS = new Set(['frac', 'dfrac', 'tfrac', 'sqrt', 'times', 'cdot', 'div']);
/** skipped by the grammar's lexer: spacing commands, \left and \right */
const SKIPPED = /^\\(?:[,:;!*\-./"(=]|left(?![a-zA-Z])|right(?![a-zA-Z])|quad|qquad|thinspace|medspace|thickspace)/;
const OPS = '+-*/^(){}[]:!|';
const STOPS = ",.'_";

/** Tokens up to (and including) the first one the evaluator cannot read. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest) ?? SKIPPED.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    // the grammar's number: digits, thousands groups (1,000), a decimal part; its digits are
    // separate tokens, so spacing the lexer skips does not split it (10\,000 is 10000)
    const num = /^\d+(,\d{3})*(\.\d+)?/.exec(rest);
    if (num) {
      const last = tokens[tokens.length - 1];
      if (last?.kind === 'num' && /^\d+$/.test(last.text)) last.text += num[0];
      else tokens.push({ kind: 'num', text: num[0] });
      i += num[0].length;
      // "5." commits to a decimal part that never comes: an error in the grammar
      if (!num[2] && text[i] === '.') return [...tokens, { kind: 'invalid' }];
      continue;
    }
    const brace = /^\\([{}])/.exec(rest);
    if (brace) {
      tokens.push({ kind: 'op', value: brace[1] });
      i += 2;
      continue;
    }
    const cmd = /^\\([a-zA-Z]+)/.exec(rest);
    if (cmd && COMMANDS.has(cmd[1])) {
      tokens.push({ kind: 'cmd', value: cmd[1] });
      i += cmd[0].length;
      continue;
    }
    if (OPS.includes(rest[0])) tokens.push({ kind: 'op', value: rest[0] });
    else if (STOPS.includes(rest[0])) tokens.push({ kind: 'stop' });
    else return [...tokens, { kind: 'invalid' }];
    i++;
  }
  return tokens;
}

const CLOSING: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 170) throw new Error(`factorial of ${n}`);
  let f = 1;
  for (let k = 2; k <= n; k++) f *= k;
  return f;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  /** The leading expression; a character the lexer does not know right after it is an error. */
  parse(): number {
    const v = this.expr();
    if (this.peek()?.kind === 'invalid') throw new Error('unreadable input after the expression');
    return v;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private isOp(...values: string[]) {
    const t = this.peek();
    return t?.kind === 'op' && values.includes(t.value);
  }
  private isCmd(...values: string[]) {
    const t = this.peek();
    return t?.kind === 'cmd' && values.includes(t.value);
  }
  private expect(v: string) {
    if (!this.isOp(v)) throw new Error(`expected ${v}`);
    this.pos++;
  }

  /**
   * Applies `step` while `more()` says an operand may follow; an operand that cannot be read
   * ends the expression before its operator instead (the grammar's parser predicts that
   * continuing would fail and stops there).
   */
  private loop(v: number, more: () => boolean, step: (v: number) => number): number {
    while (more()) {
      const at = this.pos;
      try {
        v = step(v);
      } catch {
        this.pos = at;
        break;
      }
    }
    return v;
  }

  private expr(): number {
    return this.loop(
      this.term(),
      () => this.isOp('+', '-'),
      (v) => {
        const op = (this.tokens[this.pos++] as { value: string }).value;
        const r = this.term();
        return op === '+' ? v + r : v - r;
      },
    );
  }

  private term(): number {
    return this.loop(
      this.unary(),
      () => this.isOp('*', '/', ':') || this.isCmd('times', 'cdot', 'div'),
      (v) => {
        const op = (this.tokens[this.pos++] as { value: string }).value;
        const r = this.unary();
        return op === '*' || op === 'times' || op === 'cdot' ? v * r : v / r;
      },
    );
  }

  /** A sign, or one or more factors side by side (implicit multiplication). */
  private unary(): number {
    if (this.isOp('-', '+')) {
      const negative = this.isOp('-');
      this.pos++;
      const v = this.unary();
      return negative ? -v : v;
    }
    return this.loop(
      this.postfix(),
      () => this.startsFactor(),
      (v) => v * this.postfix(),
    );
  }

  private startsFactor(): boolean {
    const t = this.peek();
    return t?.kind === 'num' || this.isOp('(', '[', '{', '|') || this.isCmd('frac', 'dfrac', 'tfrac', 'sqrt');
  }

  /** A power chain (left to right, as the grammar's left recursion has it), then factorials. */
  private postfix(): number {
    let v = this.loop(
      this.factor(),
      () => this.isOp('^'),
      (base) => {
        this.pos++;
        return base ** (this.isOp('{') ? this.braced() : this.factor({ exponent: true }));
      },
    );
    while (this.isOp('!')) {
      this.pos++;
      v = factorial(v);
    }
    return v;
  }

  private braced(): number {
    this.expect('{');
    const v = this.expr();
    this.expect('}');
    return v;
  }

  /** A fraction's numerator or denominator: braced, or one digit (\frac12 is 1/2). */
  private fractionPart(): number {
    if (this.isOp('{')) return this.braced();
    const t = this.peek();
    if (t?.kind !== 'num' || !/^\d/.test(t.text)) throw new Error('expected a digit or {');
    if (t.text.length === 1) this.pos++;
    else this.tokens[this.pos] = { kind: 'num', text: t.text.slice(1) };
    return Number(t.text[0]);
  }

  private factor(options: { exponent?: boolean } = {}): number {
    const t = this.peek();
    if (!t) throw new Error('unexpected end');
    if (t.kind === 'num') {
      this.pos++;
      return Number(t.text.replace(/,/g, ''));
    }
    if (t.kind === 'op' && t.value in CLOSING && !(options.exponent && t.value !== '{')) {
      this.pos++;
      const v = this.expr();
      this.expect(CLOSING[t.value]);
      return v;
    }
    if (t.kind === 'op' && t.value === '|' && !options.exponent) {
      this.pos++;
      const v = this.expr();
      this.expect('|');
      return Math.abs(v);
    }
    if (t.kind === 'cmd' && (t.value === 'frac' || t.value === 'dfrac' || t.value === 'tfrac')) {
      this.pos++;
      const numerator = this.fractionPart();
      return numerator / this.fractionPart();
    }
    if (t.kind === 'cmd' && t.value === 'sqrt' && !options.exponent) {
      this.pos++;
      let index = 2;
      if (this.isOp('[')) {
        this.pos++;
        index = this.expr();
        this.expect(']');
      }
      return this.braced() ** (1 / index);
    }
    throw new Error('unexpected token');
  }
}

/** The value of the leading expression, or undefined when it is not a finite number. */
export function evaluateExpression(text: string): number | undefined {
  const tokens = tokenize(text);
  try {
    const v = new Parser(tokens).parse();
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
