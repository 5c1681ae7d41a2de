import { el, px } from './svg.ts';

const CAP = 4;

/**
 * An error bar across a value axis: a line from `from` to `to` (screen coordinates along the
 * value axis) at `at` on the other axis, with caps at both ends. `vertical`: the value axis is y.
 */
export function errorBar(at: number, from: number, to: number, vertical: boolean, color: string): string {
  const d = vertical
    ? `M${px(at)} ${px(from)}V${px(to)}M${px(at - CAP)} ${px(from)}H${px(at + CAP)}M${px(at - CAP)} ${px(to)}H${px(at + CAP)}`
    : `M${px(from)} ${px(at)}H${px(to)}M${px(from)} ${px(at - CAP)}V${px(at + CAP)}M${px(to)} ${px(at - CAP)}V${px(at + CAP)}`;
  return el('path', { class: 'error-bar', d, fill: 'none', stroke: color, 'stroke-width': 1.3 });
}

/** "0.193 ± 0.045" for tooltips. */
export const withError = (value: string, error: number, format: (v: number) => string) =>
  error > 0 ? `${value} ± ${format(error)}` : value;
