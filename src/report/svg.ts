import { escapeHtml } from './escape-html.ts';

export type Attrs = Record<string, string | number | undefined | null | false>;

/** Coordinates rounded to 0.01 px keep the markup short. */
export const px = (v: number) => Math.round(v * 100) / 100;

/** An SVG/HTML element as a string; attribute values are escaped, children are already markup. */
export function el(tag: string, attrs: Attrs = {}, ...children: string[]): string {
  const attributes = Object.entries(attrs)
    .filter(([, v]) => v !== undefined && v !== null && v !== false)
    .map(([k, v]) => ` ${k}="${escapeHtml(typeof v === 'number' ? px(v) : v)}"`)
    .join('');
  return children.length === 0 ? `<${tag}${attributes}/>` : `<${tag}${attributes}>${children.join('')}</${tag}>`;
}

/**
 * About how wide `text` renders in a sans-serif font, in px, erring wide (calibrated on DejaVu Sans,
 * the widest common default). Reports are laid out before any
 * browser sees them, so margins and truncation use this estimate.
 */
export function textWidth(text: string, fontSize: number): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x2e80) units += 1;
    else if ("il.,:;|!'`ijt()[]".includes(ch)) units += 0.34;
    else if ('mwMW@%'.includes(ch)) units += 0.9;
    else if (ch >= 'A' && ch <= 'Z') units += 0.7;
    else if (ch >= '0' && ch <= '9') units += 0.64;
    else if (ch === ' ') units += 0.32;
    else units += 0.6;
  }
  return units * fontSize;
}

/** `text` cut with an ellipsis to fit `maxWidth` px. */
export function fitText(text: string, maxWidth: number, fontSize: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(chars.slice(0, mid).join('') + '…', fontSize) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('').trimEnd() + '…';
}

/** A text element cut to `maxWidth`; when cut, the whole text is its tooltip. */
export function label(content: string, maxWidth: number, fontSize: number, attrs: Attrs): string {
  const shown = fitText(content, maxWidth, fontSize);
  const tooltip = shown === content ? '' : el('title', {}, escapeHtml(content));
  return el('text', { 'font-size': fontSize, ...attrs }, tooltip + escapeHtml(shown));
}
