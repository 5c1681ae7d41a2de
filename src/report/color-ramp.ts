/** ColorBrewer Blues, light to dark: for values of one sign. */
const SEQUENTIAL = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];
/** ColorBrewer RdBu reversed: blue below zero, white at zero, red above. */
const DIVERGING = ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'];

const parse = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const toHex = (rgb: number[]) => '#' + rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('');

function interpolate(stops: string[], t: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const position = clamped * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(position));
  const a = parse(stops[i]);
  const b = parse(stops[i + 1]);
  return toHex(a.map((c, k) => c + (b[k] - c) * (position - i)));
}

/** Relative luminance (0 black … 1 white), to pick dark or light text on a cell. */
export function luminance(hex: string): number {
  const [r, g, b] = parse(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Maps values in [min, max] to colours: diverging around zero when the range spans it, else sequential. */
export function colorRamp(min: number, max: number): (v: number) => string {
  if (min < 0 && max > 0) {
    const extent = Math.max(-min, max);
    return (v) => interpolate(DIVERGING, (v / extent + 1) / 2);
  }
  const span = max - min || 1;
  const descending = max <= 0;
  return (v) => interpolate(SEQUENTIAL, descending ? (max - v) / span : (v - min) / span);
}
