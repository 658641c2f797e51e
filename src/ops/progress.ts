/**
 * Progress of a long command: a redrawn bar on a terminal, periodic plain lines otherwise
 * (logs, CI). Counts events against a known total and derives rate and ETA.
 */
export interface ProgressSink {
  update(done: number, total: number, detail: string): void;
  finish(done: number, total: number, detail: string): void;
}

export function progressSink(
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 2000,
  /** The command's name and what it counts (`rebuild` counts snapshot rows). */
  what: { readonly label: string; readonly unit: string; readonly rate: string } = {
    label: 'replay',
    unit: 'events',
    rate: 'ev/s',
  },
): ProgressSink {
  const started = Date.now();
  let last = Date.now();
  const line = (done: number, total: number, detail: string) => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = done / secs;
    const pct = total > 0 ? Math.min(100, (done / total) * 100) : 100;
    const eta = rate > 0 && total > done ? `${Math.ceil((total - done) / rate)} s` : '0 s';
    const stats = `${pct.toFixed(0).padStart(3)}% ${fmt(done)}/${fmt(total)} ${what.unit} · ${fmt(Math.round(rate))} ${what.rate} · ETA ${eta} · ${detail}`;
    if (!stream.isTTY) return stats;
    const width = 24;
    const filled = Math.round((pct / 100) * width);
    return `${what.label} ▕${'█'.repeat(filled)}${'░'.repeat(width - filled)}▏ ${stats}`;
  };
  return {
    update(done, total, detail) {
      const now = Date.now();
      if (stream.isTTY) {
        if (now - last < 100) return;
        stream.write(`\r${line(done, total, detail)}\u001b[K`);
      } else {
        if (now - last < intervalMs) return;
        stream.write(`${what.label} progress: ${line(done, total, detail)}\n`);
      }
      last = now;
    },
    finish(done, total, detail) {
      stream.write(
        stream.isTTY
          ? `\r${line(done, total, detail)}\u001b[K\n`
          : `${what.label} progress: ${line(done, total, detail)}\n`,
      );
    },
  };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
