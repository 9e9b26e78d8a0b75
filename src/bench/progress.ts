/**
 * Progress on the terminal: one bar per sweep (a model's concurrency levels, a list of batch
 * sizes) showing the setting being measured and its current figure. On a terminal it draws with
 * cli-progress; otherwise (CI logs) it prints one line per finished setting; quiet prints nothing.
 */
import cliProgress from 'cli-progress';

export interface SweepProgress {
  /** A new setting starts, e.g. "level 3". */
  setting(label: string): void;
  /** A window of the current setting ended, with its figure (inferences/s). */
  window(index: number, throughput: number): void;
  /** The setting ended with this result line. */
  settled(summary: string): void;
  /** The sweep ended, with why. */
  done(why: string): void;
}

export interface Progress {
  /** A sweep of at most `total` settings. */
  sweep(title: string, total: number): SweepProgress;
  /** A line of its own (phase changes, warnings). */
  note(line: string): void;
}

export const quietProgress: Progress = {
  sweep: () => ({ setting() {}, window() {}, settled() {}, done() {} }),
  note() {},
};

/** Plain lines, for logs that are not a terminal. */
export function lineProgress(write: (line: string) => void): Progress {
  return {
    sweep(title) {
      let label = '';
      return {
        setting: (l) => {
          label = l;
        },
        window() {},
        settled: (s) => write(`${title} ${label}: ${s}`),
        done: (why) => write(`${title}: done (${why})`),
      };
    },
    note: write,
  };
}

/** A cli-progress bar per sweep on a terminal stream. */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return {
    sweep(title, total) {
      const bar = new cliProgress.SingleBar(
        {
          format: `${title.padEnd(28)} [{bar}] {value}/{total} {label} {figure}`,
          stream,
          hideCursor: true,
          barsize: 20,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      let value = 0;
      let label = '';
      bar.start(total, 0, { label: '', figure: '' });
      return {
        setting(l) {
          label = l;
          bar.update(value, { label, figure: 'warming up' });
        },
        window(i, tp) {
          bar.update(value, { label, figure: `window ${i + 1}: ${tp.toFixed(1)} inf/s` });
        },
        settled(s) {
          value++;
          bar.setTotal(Math.max(total, value));
          bar.update(value, { label, figure: s });
        },
        done(why) {
          bar.setTotal(value);
          bar.update(value, { label: 'done', figure: why });
          bar.stop();
        },
      };
    },
    note: (line) => void stream.write(`${line}\n`),
  };
}

/** The progress a command line wants: nothing when quiet, bars on a terminal, lines otherwise. */
export function createProgress(options: { quiet: boolean; stream?: NodeJS.WriteStream }): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return quietProgress;
  return stream.isTTY ? barProgress(stream) : lineProgress((l) => void stream.write(`${l}\n`));
}
