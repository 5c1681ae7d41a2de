import cliProgress from 'cli-progress';

export interface StageProgress {
  stage: string;
  done: number;
  total: number;
  note?: string;
}

/**
 * Progress of a multi-stage command: on a terminal one bar per stage (a new bar when the stage
 * changes), otherwise a plain line per stage every 10 % (or 30 s).
 */
export function stageProgressRenderer(command: string): { update: (p: StageProgress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    let current = '';
    return {
      update: (p) => {
        if (p.stage !== current) {
          bar?.stop();
          current = p.stage;
          bar = new cliProgress.SingleBar(
            {
              format: `${command} ${p.stage} [{bar}] {value}/{total} | ETA {eta_formatted} {note}`,
              stream: process.stderr,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.total, p.done, { note: p.note ?? '' });
        } else {
          bar!.setTotal(p.total);
          bar!.update(p.done, { note: p.note ?? '' });
        }
      },
      stop: () => bar?.stop(),
    };
  }
  let current = '';
  let lastStep = -1;
  let lastTime = 0;
  return {
    update: (p) => {
      const step = p.total ? Math.floor((10 * p.done) / p.total) : 10;
      const now = Date.now();
      if (p.stage === current && step === lastStep && now - lastTime < 30_000 && p.done !== p.total) return;
      current = p.stage;
      lastStep = step;
      lastTime = now;
      console.error(`${command} ${p.stage}: ${p.done}/${p.total}${p.note ? ` (${p.note})` : ''}`);
    },
    stop: () => undefined,
  };
}
