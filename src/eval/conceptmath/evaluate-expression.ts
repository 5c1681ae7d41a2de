/**
 * Evaluates the small arithmetic/LaTeX expressions ConceptMath answers are written in:
 * numbers, + - * / ^, parentheses and braces, \frac \dfrac \tfrac, \sqrt (and \sqrt[n]),
 * \times \cdot \div, \left( \right), implicit multiplication ("2\sqrt{3}", "3(4)").
 * It stands in for the reference's sympy `parse_latex` + `simplify`, which are only used to get
 * a number; anything else (letters, units, ratios) gives undefined, which the matcher treats as
 * "not close", as the reference does when sympy cannot produce a number.
 */
type Token = { kind: 'num'; value: number } | { kind: 'op'; value: string } | { kind: 'cmd'; value: string };

const COMMANDS = new Set(['frac', 'dfrac', 'tfrac', 'sqrt', 'times', 'cdot', 'div', 'left', 'right']);

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)/.exec(text.slice(i));
    if (num) {
      tokens.push({ kind: 'num', value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (c === '\\') {
      const cmd = /^\\([a-zA-Z]+)/.exec(text.slice(i));
      if (!cmd || !COMMANDS.has(cmd[1])) return undefined;
      tokens.push({ kind: 'cmd', value: cmd[1] });
      i += cmd[0].length;
      continue;
    }
    if ('+-*/^(){}[]'.includes(c)) {
      tokens.push({ kind: 'op', value: c });
      i++;
      continue;
    }
    return undefined;
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): number {
    const v = this.expr();
    if (this.pos !== this.tokens.length) throw new Error('trailing input');
    return v;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private isOp(v: string) {
    const t = this.peek();
    return t?.kind === 'op' && t.value === v;
  }
  private isCmd(v: string) {
    const t = this.peek();
    return t?.kind === 'cmd' && t.value === v;
  }
  private expect(v: string) {
    if (!this.isOp(v)) throw new Error(`expected ${v}`);
    this.pos++;
  }

  private expr(): number {
    let v = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.tokens[this.pos++] as { value: string }).value;
      const r = this.term();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  }

  private startsAtom(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.kind === 'num') return true;
    if (t.kind === 'op') return t.value === '(' || t.value === '{';
    return t.value === 'frac' || t.value === 'dfrac' || t.value === 'tfrac' || t.value === 'sqrt' || t.value === 'left';
  }

  private term(): number {
    let v = this.unary();
    for (;;) {
      if (this.isOp('*') || this.isCmd('times') || this.isCmd('cdot')) {
        this.pos++;
        v *= this.unary();
      } else if (this.isOp('/') || this.isCmd('div')) {
        this.pos++;
        v /= this.unary();
      } else if (this.startsAtom()) v *= this.power();
      else return v;
    }
  }

  private unary(): number {
    if (this.isOp('-')) {
      this.pos++;
      return -this.unary();
    }
    if (this.isOp('+')) {
      this.pos++;
      return this.unary();
    }
    return this.power();
  }

  private power(): number {
    const base = this.atom();
    if (this.isOp('^')) {
      this.pos++;
      return base ** this.unary();
    }
    return base;
  }

  private group(): number {
    if (this.isOp('{')) {
      this.pos++;
      const v = this.expr();
      this.expect('}');
      return v;
    }
    return this.atom();
  }

  private atom(): number {
    const t = this.peek();
    if (!t) throw new Error('unexpected end');
    this.pos++;
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op') {
      if (t.value === '(') {
        const v = this.expr();
        this.expect(')');
        return v;
      }
      if (t.value === '{') {
        const v = this.expr();
        this.expect('}');
        return v;
      }
      throw new Error(`unexpected ${t.value}`);
    }
    switch (t.value) {
      case 'frac':
      case 'dfrac':
      case 'tfrac': {
        const a = this.group();
        const b = this.group();
        return a / b;
      }
      case 'sqrt': {
        let index = 2;
        if (this.isOp('[')) {
          this.pos++;
          index = this.expr();
          this.expect(']');
        }
        return this.group() ** (1 / index);
      }
      case 'left': {
        this.expect('(');
        const v = this.expr();
        if (!this.isCmd('right')) throw new Error('expected \\right');
        this.pos++;
        this.expect(')');
        return v;
      }
      default:
        throw new Error(`unexpected \\${t.value}`);
    }
  }
}

/** The value of an expression, or undefined when it is not a finite number. */
export function evaluateExpression(text: string): number | undefined {
  const tokens = tokenize(text);
  if (!tokens || tokens.length === 0) return undefined;
  try {
    const v = new Parser(tokens).parse();
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
