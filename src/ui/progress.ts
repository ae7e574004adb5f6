/** A progress bar on stderr, only when stderr is a terminal; otherwise nothing at all. */
export interface ProgressReporter {
  update(done: number, payload: Record<string, string | number>): void;
  stop(): void;
}

const silent: ProgressReporter = { update: () => undefined, stop: () => undefined };

export async function createProgress(
  total: number,
  format: string,
  initial: Record<string, string | number>,
): Promise<ProgressReporter> {
  if (process.stderr.isTTY !== true || total <= 0) return silent;
  // Loaded only here: scripts and pipes never pay for it.
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format, hideCursor: true, etaBuffer: 50, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, initial);
  return {
    update: (done, payload) => bar.update(Math.min(done, total), payload),
    stop: () => bar.stop(),
  };
}
