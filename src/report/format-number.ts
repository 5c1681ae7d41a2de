const upToFourDigits = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const wholeNumber = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A value for tables, metric cards and tooltips: 4 significant digits, thousands separated, "—" for missing. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return value.toExponential(2).replace('-', '−');
  const text =
    Number.isInteger(value) || abs >= 1e5
      ? wholeNumber.format(value)
      : abs >= 1000
        ? oneDecimal.format(value)
        : upToFourDigits.format(value);
  return text.replace('-', '−');
}

const suffixes: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** The decimals that tell apart consecutive multiples of `step`. */
function decimalsFor(step: number): number {
  if (!(step > 0)) return 0;
  for (let d = 0; d < 12; d++)
    if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6 * step * 10 ** d) return d;
  return 12;
}

/** Digits before the decimal point, minus one: the exponent of a number in scientific notation. */
const exponentOf = (v: number) => Math.floor(Math.log10(Math.abs(v)));

/**
 * Tick labels for one linear axis: every label uses the same unit (k, M, B, T when the axis
 * reaches 10,000; scientific notation when every value is below 0.001) and as many decimals as
 * the step needs, so 0, 2.5, 5 line up; more, if two ticks would still read alike (2e−5, 2.5e−5
 * is 2.0e−5, 2.5e−5, never 2e−5, 2e−5).
 */
export function linearTickFormatter(ticks: number[], step: number): (v: number) => string {
  const maxAbs = Math.max(0, ...ticks.map(Math.abs));
  let withDecimals: (extra: number) => (v: number) => string;
  if (maxAbs > 0 && maxAbs < 1e-3 && step > 0) {
    const base = Math.max(0, exponentOf(maxAbs) - exponentOf(step)) + decimalsFor(step / 10 ** exponentOf(step));
    withDecimals = (extra) => (v) => (v === 0 ? '0' : v.toExponential(base + extra).replace('-', '−'));
  } else {
    const [unit, suffix] = maxAbs >= 1e4 ? suffixes.find(([u]) => maxAbs >= u)! : [1, ''];
    const base = decimalsFor(step / unit);
    withDecimals = (extra) => (v) => {
      const text = (v / unit).toFixed(base + extra);
      return (/^-0(\.0*)?$/.test(text) ? text.slice(1) : text).replace('-', '−') + (v === 0 ? '' : suffix);
    };
  }
  for (let extra = 0; extra < 8; extra++) {
    const format = withDecimals(extra);
    if (new Set(ticks.map(format)).size === ticks.length) return format;
  }
  return withDecimals(8);
}

/** Tick labels on a log axis: 1, 10, 100, 1k, 10k, 0.01 … */
export function logTickLabel(v: number): string {
  const found = suffixes.find(([u]) => v >= u);
  if (found) return `${+(v / found[0]).toPrecision(3)}${found[1]}`;
  if (v < 1e-3) return v.toExponential(0);
  return String(+v.toPrecision(3));
}
