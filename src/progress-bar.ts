/**
 * The command line's progress display and Ctrl-C handling. A terminal gets one redrawn
 * line per stage (bar, count, elapsed, estimate); a log (not a TTY) gets a line when a stage
 * ends, or every 30 s, so CI logs stay short. Small enough not to be worth a dependency.
 */
import type { Progress } from "./runtime/progress.js";

const clock = (s: number) => {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
};

export interface ProgressBar {
  update: Progress;
  /** Ends the current line. */
  end(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  let stage = "";
  let start = 0;
  let lastLog = 0;
  let open = false;
  const tty = Boolean(stream.isTTY);
  const update: Progress = (done, total, name) => {
    const now = performance.now();
    if (name !== stage) {
      if (open) stream.write("\n");
      open = false;
      stage = name;
      start = now;
      lastLog = now;
    }
    const elapsed = (now - start) / 1000;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const eta = done > 0 && done < total ? ` eta ${clock((elapsed * (total - done)) / done)}` : "";
    if (tty) {
      const width = 24;
      const fill = Math.round(frac * width);
      stream.write(`\r${name} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${done}/${total} ${clock(elapsed)}${eta}\x1b[K`);
      open = true;
    } else if (done >= total || now - lastLog > 30_000) {
      stream.write(`${name}: ${done}/${total} (${clock(elapsed)})\n`);
      lastLog = now;
    }
  };
  return {
    update,
    end() {
      if (open) stream.write("\n");
      open = false;
    },
  };
}

/** An AbortSignal that fires on the first Ctrl-C (the second one exits at once). */
export function cancelOnInterrupt(): AbortSignal {
  const ctl = new AbortController();
  process.once("SIGINT", () => {
    ctl.abort(new Error("cancelled (Ctrl-C); nothing was written"));
    process.once("SIGINT", () => process.exit(130));
  });
  return ctl.signal;
}
