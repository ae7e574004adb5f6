/**
 * Where `piramid serve` writes its request logs (pino JSON lines): stdout, in batches. pino's
 * default destination makes one write system call per line, and Fastify logs two lines per request;
 * this gathers lines and writes them together when 16 KiB have accumulated or 100 ms after the
 * first line of a batch, whichever comes first, so a busy server makes one write per few dozen
 * requests and a quiet one still shows each line within 100 ms. `flush()` on shutdown (and on
 * process exit) writes what is left.
 */
export class BufferedLogStream {
  private chunks: string[] = [];
  private length = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onExit = (): void => this.flush();

  constructor(
    private readonly out: { write(text: string): unknown } = process.stdout,
    private readonly maxChars = 16 * 1024,
    private readonly maxDelayMs = 100,
  ) {
    process.once('exit', this.onExit);
  }

  write(line: string): void {
    this.chunks.push(line);
    this.length += line.length;
    if (this.length >= this.maxChars) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.maxDelayMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.chunks.length === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.length = 0;
    this.out.write(text);
  }

  /** Writes what is buffered and stops listening for process exit. */
  close(): void {
    this.flush();
    process.off('exit', this.onExit);
  }
}
