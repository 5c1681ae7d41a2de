/**
 * Checks that markup is well-formed XML as far as tags go: every element closed, in order, and
 * every attribute quoted. Returns a description of the first problem, or undefined.
 */
export function xmlProblem(markup: string): string | undefined {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<!doctype[^>]*>/gi;
  let last = 0;
  for (let m = tag.exec(markup); m; m = tag.exec(markup)) {
    const between = markup.slice(last, m.index);
    if (between.includes('<'))
      return `unparsable tag near: ${between.slice(between.indexOf('<'), between.indexOf('<') + 60)}`;
    if (/&(?!(amp|lt|gt|quot|#39|#\d+);)/.test(between)) return `unescaped & in text: ${between.slice(0, 60)}`;
    last = tag.lastIndex;
    if (!m[2]) continue;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open ?? 'nothing'}>`;
    } else if (!selfClosing) stack.push(name);
  }
  if (markup.slice(last).includes('<')) return `unparsable tail: ${markup.slice(last, last + 60)}`;
  return stack.length ? `unclosed <${stack.join('>, <')}>` : undefined;
}

/** How many times `pattern` occurs in `text`. */
export function count(text: string, pattern: RegExp): number {
  return (
    text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g')) ?? []
  ).length;
}
