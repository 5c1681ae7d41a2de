import type { Scale } from './scale.ts';
import { el, label, textWidth, fitText } from './svg.ts';

export type AxisSpec =
  { kind: 'numeric'; scale: Scale; title?: string } | { kind: 'category'; categories: string[]; title?: string };

/** Where an axis lies on screen: a value (numeric) or a category index to px. */
export interface PlacedAxis {
  at(v: number): number;
  /** the width of one category's band; 0 on a numeric axis */
  band: number;
}

export interface Cartesian {
  /** gridlines, ticks, tick labels and axis titles */
  svg: string;
  x: PlacedAxis;
  y: PlacedAxis;
  area: { left: number; top: number; right: number; bottom: number };
}

const TICK_FONT = 11;
const CATEGORY_FONT = 12;
const TITLE_FONT = 12;
const CATEGORY_LABEL_MAX = 200;
const ROTATED_LABEL_MAX = 130;
const ROTATION = 40;

function tickLabels(axis: AxisSpec): string[] {
  return axis.kind === 'numeric' ? axis.scale.ticks.map((t) => axis.scale.label(t)) : axis.categories;
}

function placeNumeric(scale: Scale, from: number, to: number): PlacedAxis {
  return { at: (v) => from + scale.fraction(v) * (to - from), band: 0 };
}

function placeCategories(count: number, from: number, to: number): PlacedAxis {
  const band = (to - from) / Math.max(1, count);
  return { at: (i) => from + band * (i + 0.5), band: Math.abs(band) };
}

/** Every how many category labels one is shown, so that labels of `extent` px don't overlap in bands of `band` px. */
function labelStride(band: number, extent: number): number {
  return Math.max(1, Math.ceil(extent / Math.max(1, band)));
}

/**
 * Lays out a plot area inside `width` × `height` below `top`, with room for the tick labels and
 * axis titles of both axes, and draws its frame.
 */
export function layoutCartesian(x: AxisSpec, y: AxisSpec, width: number, height: number, top: number): Cartesian {
  const yLabels = tickLabels(y);
  const yLabelWidth =
    y.kind === 'numeric'
      ? Math.max(0, ...yLabels.map((l) => textWidth(l, TICK_FONT)))
      : Math.max(0, ...yLabels.map((l) => textWidth(fitText(l, CATEGORY_LABEL_MAX, CATEGORY_FONT), CATEGORY_FONT)));
  const left = 10 + (y.title ? 22 : 0) + yLabelWidth + 8;

  const xLabels = tickLabels(x);
  const lastXLabel = x.kind === 'numeric' ? textWidth(xLabels[xLabels.length - 1] ?? '', TICK_FONT) : 0;
  const right = width - Math.max(16, lastXLabel / 2 + 6);
  const plotWidth = right - left;

  let rotate = false;
  let xLabelHeight = 22;
  let xStride = 1;
  if (x.kind === 'category') {
    const band = plotWidth / Math.max(1, x.categories.length);
    const widest = Math.max(0, ...x.categories.map((c) => textWidth(c, CATEGORY_FONT)));
    if (widest > band - 6) {
      rotate = true;
      const longest = Math.min(widest, ROTATED_LABEL_MAX);
      xLabelHeight = 16 + longest * Math.sin((ROTATION * Math.PI) / 180);
      xStride = labelStride(band, CATEGORY_FONT * 1.3);
    }
  }
  const bottom = height - xLabelHeight - (x.title ? 24 : 4);
  const areaTop = top + 8;

  const xPlaced =
    x.kind === 'numeric' ? placeNumeric(x.scale, left, right) : placeCategories(x.categories.length, left, right);
  const yPlaced =
    y.kind === 'numeric'
      ? placeNumeric(y.scale, bottom, areaTop)
      : placeCategories(y.categories.length, areaTop, bottom);

  const parts: string[] = [];
  if (y.kind === 'numeric') {
    for (const t of y.scale.ticks) {
      const py = yPlaced.at(t);
      parts.push(
        el('line', {
          class: 'grid',
          x1: left,
          x2: right,
          y1: py,
          y2: py,
          stroke: t === 0 && y.scale.min < 0 ? '#9a9a9a' : '#e5e5e5',
          'stroke-width': 1,
        }),
      );
      parts.push(
        el(
          'text',
          { x: left - 8, y: py + 4, 'font-size': TICK_FONT, 'text-anchor': 'end', fill: '#555' },
          y.scale.label(t),
        ),
      );
    }
  } else {
    const stride = labelStride(yPlaced.band, CATEGORY_FONT * 1.2);
    y.categories.forEach((c, i) => {
      if (i % stride === 0)
        parts.push(
          label(c, CATEGORY_LABEL_MAX, CATEGORY_FONT, {
            x: left - 8,
            y: yPlaced.at(i) + 4,
            'text-anchor': 'end',
            fill: '#333',
          }),
        );
    });
  }
  if (x.kind === 'numeric') {
    for (const t of x.scale.ticks) {
      const pxX = xPlaced.at(t);
      parts.push(
        el('line', {
          class: 'grid',
          x1: pxX,
          x2: pxX,
          y1: areaTop,
          y2: bottom,
          stroke: t === 0 && x.scale.min < 0 ? '#9a9a9a' : '#efefef',
          'stroke-width': 1,
        }),
      );
      parts.push(el('line', { x1: pxX, x2: pxX, y1: bottom, y2: bottom + 4, stroke: '#888' }));
      parts.push(
        el(
          'text',
          { x: pxX, y: bottom + 17, 'font-size': TICK_FONT, 'text-anchor': 'middle', fill: '#555' },
          x.scale.label(t),
        ),
      );
    }
  } else {
    x.categories.forEach((c, i) => {
      if (i % xStride !== 0) return;
      const cx = xPlaced.at(i);
      parts.push(
        rotate
          ? label(c, ROTATED_LABEL_MAX, CATEGORY_FONT, {
              x: cx + 4,
              y: bottom + 12,
              'text-anchor': 'end',
              fill: '#333',
              transform: `rotate(-${ROTATION} ${(cx + 4).toFixed(2)} ${bottom + 12})`,
            })
          : label(c, xPlaced.band - 4, CATEGORY_FONT, { x: cx, y: bottom + 18, 'text-anchor': 'middle', fill: '#333' }),
      );
    });
  }
  parts.push(
    el('line', { class: 'axis', x1: left, x2: right, y1: bottom, y2: bottom, stroke: '#888', 'stroke-width': 1 }),
  );
  parts.push(
    el('line', { class: 'axis', x1: left, x2: left, y1: areaTop, y2: bottom, stroke: '#888', 'stroke-width': 1 }),
  );
  if (x.title)
    parts.push(
      label(x.title, plotWidth, TITLE_FONT, {
        x: (left + right) / 2,
        y: height - 8,
        'text-anchor': 'middle',
        fill: '#333',
        'font-weight': 600,
      }),
    );
  if (y.title) {
    const cy = (areaTop + bottom) / 2;
    parts.push(
      label(y.title, bottom - areaTop, TITLE_FONT, {
        x: 16,
        y: cy,
        'text-anchor': 'middle',
        fill: '#333',
        'font-weight': 600,
        transform: `rotate(-90 16 ${cy.toFixed(2)})`,
      }),
    );
  }
  return {
    svg: el('g', { class: 'frame' }, ...parts),
    x: xPlaced,
    y: yPlaced,
    area: { left, top: areaTop, right, bottom },
  };
}
