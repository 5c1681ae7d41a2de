import type { MarkerShape } from './series-colors.ts';
import { marker } from './markers.ts';
import { el, label, textWidth, fitText } from './svg.ts';

export interface LegendItem {
  name: string;
  color: string;
  /** line: a stroke; marker: the point shape; neither: a filled square (bars) */
  line?: boolean;
  marker?: MarkerShape;
  dash?: string;
  opacity?: number;
}

const FONT = 12;
const ROW = 20;
const SWATCH = 22;
const NAME_MAX = 240;
const GAP = 18;

/** A legend laid out in rows that wrap within `width`, starting at (left, top). */
export function renderLegend(
  items: LegendItem[],
  left: number,
  top: number,
  width: number,
): { svg: string; height: number } {
  if (items.length === 0) return { svg: '', height: 0 };
  const parts: string[] = [];
  let x = left;
  let row = 0;
  for (const item of items) {
    const nameWidth = textWidth(fitText(item.name, NAME_MAX, FONT), FONT);
    const itemWidth = SWATCH + 6 + nameWidth;
    if (x > left && x + itemWidth > left + width) {
      x = left;
      row++;
    }
    const cy = top + row * ROW + ROW / 2;
    const swatch = [
      item.line
        ? el('line', {
            x1: x,
            y1: cy,
            x2: x + SWATCH,
            y2: cy,
            stroke: item.color,
            'stroke-width': 2.5,
            'stroke-dasharray': item.dash,
          })
        : '',
      item.marker
        ? marker(item.marker, x + SWATCH / 2, cy, 4, { fill: item.color, stroke: '#fff', 'stroke-width': 1 })
        : '',
      !item.line && !item.marker
        ? el('rect', {
            x: x + 5,
            y: cy - 6,
            width: 12,
            height: 12,
            rx: 2,
            fill: item.color,
            'fill-opacity': item.opacity !== undefined && item.opacity < 1 ? item.opacity : undefined,
            stroke: item.color,
          })
        : '',
    ].join('');
    parts.push(
      el(
        'g',
        { class: 'legend-item' },
        swatch,
        label(item.name, NAME_MAX, FONT, { x: x + SWATCH + 6, y: cy + 4, fill: '#333' }),
      ),
    );
    x += itemWidth + GAP;
  }
  return { svg: el('g', { class: 'legend' }, ...parts), height: (row + 1) * ROW };
}
