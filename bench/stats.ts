/** Small helpers shared by benchmarks: timing and percentiles. */

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Latencies (ms) of one pass: every item once, one at a time. */
export async function timedPass<T>(items: readonly T[], send: (item: T) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  for (const item of items) {
    const t = nowMs();
    await send(item);
    latencies.push(nowMs() - t);
  }
  return latencies;
}
