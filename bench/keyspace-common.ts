/** Helpers of the keyspace benches (standalone and `--cluster`). */
import { performance } from 'node:perf_hooks';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const pct = (sorted: number[], p: number) =>
  sorted.length === 0
    ? NaN
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ??
      NaN);

export const summary = (values: number[]) => {
  const s = [...values].sort((x, y) => x - y);
  return {
    n: s.length,
    p50: Math.round(pct(s, 50)),
    p90: Math.round(pct(s, 90)),
    max: Math.round(s[s.length - 1] ?? NaN),
  };
};

/** Milliseconds until the key no longer EXISTS (polled every 5 ms); Infinity after the timeout. */
export async function goneAfter(
  r: { exists(key: string): Promise<number> },
  key: string,
  timeoutMs = 30_000,
): Promise<number> {
  const t0 = performance.now();
  while ((await r.exists(key)) === 1) {
    if (performance.now() - t0 > timeoutMs) return Infinity;
    await sleep(5);
  }
  return performance.now() - t0;
}
