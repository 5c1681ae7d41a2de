/**
 * How long work shows its progress: one renderer for every command. On a terminal, one bar
 * (cli-progress) whose label follows the current stage, with one ETA computed here from the
 * stage's own rate; elsewhere (a log file, a pipe) a plain line at each stage change, every
 * 10 % and at least every 30 s. Work reports through a `Progress` callback and never prints.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** the current stage of a multi-stage job, e.g. "train", "iteration 2 sample" */
  stage?: string;
  done: number;
  total: number;
  /** a short note shown after the counts: a loss, a running mean, failures so far */
  note?: string;
  /** an ETA the work knows better (the trainer's); otherwise estimated from the stage's rate */
  etaSeconds?: number;
}

export type ProgressCallback = (progress: Progress) => void;

export interface ProgressRenderer {
  update: ProgressCallback;
  /** ends the bar (idempotent); later updates start a new one */
  stop(): void;
}

export interface RendererOptions {
  /** where it is drawn (default process.stderr) */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** plain lines: the longest silence in ms (default 30 000) */
  intervalMs?: number;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Rate and ETA of the current stage, counted from the first update of the stage (work resumed earlier is not "fast"). */
class StageClock {
  stage: string | undefined = undefined;
  private startDone = 0;
  private startTime = 0;

  /** true when `p` starts a new stage */
  observe(p: Progress, now: number): boolean {
    const key = p.stage ?? '';
    if (key === this.stage) return false;
    this.stage = key;
    this.startDone = p.done;
    this.startTime = now;
    return true;
  }

  rate(p: Progress, now: number): number | undefined {
    const seconds = (now - this.startTime) / 1000;
    return p.done > this.startDone && seconds > 0 ? (p.done - this.startDone) / seconds : undefined;
  }

  eta(p: Progress, now: number): number | undefined {
    if (p.done >= p.total) return undefined;
    if (p.etaSeconds !== undefined) return Number.isFinite(p.etaSeconds) ? p.etaSeconds : undefined;
    const rate = this.rate(p, now);
    return rate ? (p.total - p.done) / rate : undefined;
  }
}

/** The renderer for `label` (the command, e.g. "train sft"): a bar on a TTY, plain lines otherwise. */
export function progressRenderer(label: string, options: RendererOptions = {}): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  return stream.isTTY ? barRenderer(label, stream) : lineRenderer(label, stream, options.intervalMs ?? 30_000);
}

function barRenderer(label: string, stream: NodeJS.WritableStream): ProgressRenderer {
  const clock = new StageClock();
  let bar: cliProgress.SingleBar | undefined;
  const payload = (p: Progress, now: number) => {
    const eta = clock.eta(p, now);
    return {
      stage: p.stage ? ` ${p.stage}` : '',
      etaText: eta === undefined ? '' : ` | ETA ${formatDuration(eta)}`,
      note: p.note ? ` | ${p.note}` : '',
    };
  };
  return {
    update(p) {
      const now = Date.now();
      const newStage = clock.observe(p, now);
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            // {eta} is cli-progress's own (its estimate); ours is {etaText}
            format: `${label}{stage} [{bar}] {value}/{total}{etaText}{note}`,
            stream: stream as NodeJS.WriteStream,
            hideCursor: true,
            etaBuffer: 1,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, p.done, payload(p, now));
        return;
      }
      if (newStage || bar.getTotal() !== p.total) bar.setTotal(p.total);
      bar.update(p.done, payload(p, now));
    },
    stop() {
      bar?.stop();
      bar = undefined;
      clock.stage = undefined;
    },
  };
}

function lineRenderer(label: string, stream: NodeJS.WritableStream, intervalMs: number): ProgressRenderer {
  const clock = new StageClock();
  let lastTenth = -1;
  let lastTime = 0;
  return {
    update(p) {
      const now = Date.now();
      const newStage = clock.observe(p, now);
      const tenth = p.total ? Math.floor((10 * p.done) / p.total) : 10;
      const finished = p.done >= p.total;
      if (!newStage && tenth === lastTenth && now - lastTime < intervalMs && !finished) return;
      if (!newStage && finished && lastTenth === 10) return; // the end was already said
      lastTenth = tenth;
      lastTime = now;
      const percent = p.total ? Math.round((100 * p.done) / p.total) : 100;
      const rate = clock.rate(p, now);
      const eta = clock.eta(p, now);
      const parts = [
        `${label}${p.stage ? ` ${p.stage}` : ''}: ${p.done}/${p.total} (${percent}%)`,
        ...(rate !== undefined ? [`${rate >= 10 ? rate.toFixed(0) : rate.toPrecision(2)}/s`] : []),
        ...(eta !== undefined ? [`ETA ${formatDuration(eta)}`] : []),
        ...(p.note ? [p.note] : []),
      ];
      stream.write(parts.join(', ') + '\n');
    },
    stop() {
      clock.stage = undefined;
      lastTenth = -1;
    },
  };
}
