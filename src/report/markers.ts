import type { MarkerShape } from './series-colors.ts';
import { el, px, type Attrs } from './svg.ts';

/** A point marker of the given shape centred on (x, y), about `r` px in radius. */
export function marker(shape: MarkerShape, x: number, y: number, r: number, attrs: Attrs, tooltip = ''): string {
  const children = tooltip ? [tooltip] : [];
  switch (shape) {
    case 'circle':
      return el('circle', { ...attrs, cx: x, cy: y, r }, ...children);
    case 'square': {
      const s = r * 0.9;
      return el('rect', { ...attrs, x: x - s, y: y - s, width: 2 * s, height: 2 * s }, ...children);
    }
    case 'triangle': {
      const s = r * 1.2;
      return el(
        'path',
        {
          ...attrs,
          d: `M${px(x)} ${px(y - s)}L${px(x + s * 0.94)} ${px(y + s * 0.6)}L${px(x - s * 0.94)} ${px(y + s * 0.6)}Z`,
        },
        ...children,
      );
    }
    case 'diamond': {
      const s = r * 1.25;
      return el(
        'path',
        { ...attrs, d: `M${px(x)} ${px(y - s)}L${px(x + s)} ${px(y)}L${px(x)} ${px(y + s)}L${px(x - s)} ${px(y)}Z` },
        ...children,
      );
    }
  }
}
