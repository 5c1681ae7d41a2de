import type { MarkerShape } from './series-colors.ts';
import { el, px, type Attrs } from './svg.ts';

/** A point marker of the given shape centred on (x, y), about `r` px in radius. */
export function marker(shape: MarkerShape, x: number, y: number, r: number, attrs: Attrs, tooltip = ''): string {
  const children = tooltip ? [tooltip] : [];
  switch (shape) {
    case 'circle':
      return el('circle', { cx: x, cy: y, r, ...attrs }, ...children);
    case 'square': {
      const s = r * 0.9;
      return el('rect', { x: x - s, y: y - s, width: 2 * s, height: 2 * s, ...attrs }, ...children);
    }
    case 'triangle': {
      const s = r * 1.2;
      return el('path', { d: `M${px(x)} ${px(y - s)}L${px(x + s * 0.94)} ${px(y + s * 0.6)}L${px(x - s * 0.94)} ${px(y + s * 0.6)}Z`, ...attrs }, ...children);
    }
    case 'diamond': {
      const s = r * 1.25;
      return el('path', { d: `M${px(x)} ${px(y - s)}L${px(x + s)} ${px(y)}L${px(x)} ${px(y + s)}L${px(x - s)} ${px(y)}Z`, ...attrs }, ...children);
    }
  }
}
