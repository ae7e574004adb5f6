/**
 * `piramid browse` as a person uses it: the real binary in a real terminal (tmux, 80×24), keys
 * sent with send-keys, the screen read with capture-pane. tmux is installed from apt when missing
 * (tests run as root); when it cannot be, the terminal tests are skipped, saying why.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fixture, PROJECT_ROOT, runCli } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The binary under test (PIRAMID_BIN overrides, e.g. a build elsewhere). */
const BIN = process.env.PIRAMID_BIN ?? `${PROJECT_ROOT}bin/run.js`;

function tmuxAvailable(): string | undefined {
  const has = (): boolean => spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
  if (has()) return undefined;
  if (process.getuid?.() !== 0) return 'tmux is not installed and the tests are not root, so apt-get cannot install it';
  const install = spawnSync('sh', ['-c', 'apt-get install -y tmux || (apt-get update && apt-get install -y tmux)'], { stdio: 'ignore', timeout: 180_000 });
  if (install.status === 0 && has()) return undefined;
  return 'tmux is not installed and `apt-get install -y tmux` failed (offline?)';
}

const skipReason = tmuxAvailable();

let sessions = 0;

/** A tmux session of 80×24 running `piramid browse <args>`; the shell prints EXIT:<code> after it. */
class Terminal {
  readonly name = `piramid-browse-${process.pid}-${++sessions}`;
  constructor(args: string[], env: Record<string, string> = {}) {
    // Ink writes only the last frame in CI (is-in-ci): a person's terminal is not CI.
    const unset = Object.keys(process.env).filter((key) => key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_'));
    const quoted = [process.execPath, BIN, 'browse', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const exports = Object.entries({ TERM: 'xterm-256color', ...env })
      .map(([key, value]) => `${key}='${value}'`)
      .join(' ');
    const command = `cd '${PROJECT_ROOT}' && env ${unset.map((key) => `-u ${key}`).join(' ')} ${exports} ${quoted}; echo "EXIT:$?"; sleep 600`;
    execFileSync('tmux', ['new-session', '-d', '-s', this.name, '-x', '80', '-y', '24', command]);
  }

  /** The screen as text (capture-pane), or with its escape sequences (-e). */
  screen(escapes = false): string {
    return execFileSync('tmux', ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name], { encoding: 'utf8' });
  }

  keys(...keys: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  /** Types text literally (send-keys -l). */
  type(text: string): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, '-l', text]);
  }

  /** Waits until the screen matches (10 s), and returns it. */
  async waitFor(pattern: RegExp, what = String(pattern)): Promise<string> {
    const started = Date.now();
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() - started > 15_000) throw new Error(`screen never showed ${what}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  pid(): number {
    return Number(execFileSync('tmux', ['list-panes', '-t', this.name, '-F', '#{pane_pid}'], { encoding: 'utf8' }).trim());
  }

  /** The browse process in the pane (a child of its shell), if it still runs. */
  browsePid(): number | undefined {
    const found = spawnSync('pgrep', ['-P', String(this.pid()), '-f', 'browse'], { encoding: 'utf8' });
    const pid = Number(found.stdout.trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** Kills the session (SIGHUP to browse) and waits until browse has gone, so its folder is free. */
  async close(): Promise<void> {
    let pid: number | undefined;
    try {
      pid = this.browsePid();
    } catch {
      pid = undefined;
    }
    spawnSync('tmux', ['kill-session', '-t', this.name], { stdio: 'ignore' });
    for (let i = 0; pid !== undefined && i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('piramid browse without a terminal', () => {
  it('exits at once with code 2 and says it needs a TTY', async () => {
    const dataDir = await tempDir();
    const started = Date.now();
    const result = await runCli(['browse'], { dataDir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /piramid browse is interactive and needs a terminal, but stdin and stdout are not a TTY\. \[INVALID_ARGUMENT\]/);
    assert.match(result.stderr, /Hint: Run it in a terminal/);
    assert.equal(result.stdout, '');
    assert.ok(Date.now() - started < 15_000, 'never hangs');
  });
});

describe('piramid browse in a terminal (tmux, 80×24)', { skip: skipReason }, () => {
  let dataDir: string;
  let terminals: Terminal[] = [];
  const open = (args: string[], env?: Record<string, string>): Terminal => {
    const terminal = new Terminal(args, env);
    terminals.push(terminal);
    return terminal;
  };
  // Whatever a test left running is stopped before the next one opens the folder.
  afterEach(async () => {
    for (const terminal of terminals) await terminal.close();
    terminals = [];
  });
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'piramid-browse-'));
    const ingest = await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'images'], { dataDir });
    assert.equal(ingest.code, 0, ingest.stderr);
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('browses collections, records and search results, then quits with the terminal restored', async () => {
    const term = open(['--data-dir', dataDir]);
    let screen = await term.waitFor(/› images\s+20\s+4 cosine/, 'the collections');
    const lines = screen.split('\n');
    assert.match(lines[0] ?? '', /^ piramid browse · /);
    assert.match(lines[23] ?? '', /\? help {2}q quit/, 'the status bar on the last line');
    for (const line of lines) assert.ok(line.length <= 80, line);

    term.keys('Enter');
    screen = await term.waitFor(/records 1–19 of 20/, 'the records');
    assert.match(screen, /› color-blue\s+Blue is a color\./);
    term.keys('j', 'j', 'Enter');
    screen = await term.waitFor(/Metadata/, 'a record');
    assert.match(screen, /^ color-orange$/m);
    assert.match(screen, /├─ category: "color"/);
    assert.match(screen, /4 dims · norm \d\.\d{4}/);

    term.keys('Escape');
    await term.waitFor(/› color-orange /, 'the same row, back in the list');
    term.keys('s');
    await term.waitFor(/Query {2}█/, 'the search panel');
    term.type('[1, 0, 0, 0]');
    screen = await term.waitFor(/^ {4}1 █+\s+\d\.\d{4} fruit-/m, 'vector hits');
    assert.match(screen, /\d+ hits · \d+(\.\d+)? ms · vector \(by vector\)/);
    term.keys('C-u');
    term.type('apple');
    await term.waitFor(/Query {2}apple█/, 'the new query');
    term.keys('Tab');
    screen = await term.waitFor(/1 hit · .* keyword/, 'a keyword hit');
    assert.match(screen, /^ {4}1 █+\s+\d+\.\d{4} fruit-apple/m);
    assert.match(screen, /\[keyword\]/);
    term.keys('Down');
    term.type('rank >');
    await term.waitFor(/\^ .*column 7/, 'the where error at its column');
    // Esc leaves the filter line, Esc again closes the search (two keys, as a person types them:
    // ESC ESC in one read is Alt+Esc).
    term.keys('Escape');
    await new Promise((resolve) => setTimeout(resolve, 300));
    term.keys('Escape');
    await term.waitFor(/records 1–19 of 20/, 'back to the collection');
    term.keys('?');
    await term.waitFor(/Keys of piramid browse/, 'the help');
    term.keys('q');
    await term.waitFor(/records 1–19 of 20/, 'the help closed');
    term.keys('q');
    await term.waitFor(/› images /, 'the collections');
    term.keys('q');
    screen = await term.waitFor(/EXIT:0/, 'a clean exit');
    assert.doesNotMatch(screen, /piramid browse ·/, 'the alternate screen is gone');
    // The folder is closed and unlocked: another command opens it.
    const info = await runCli(['info', 'images', '--json'], { dataDir });
    assert.equal(info.code, 0, info.stderr);
  });

  it('stops on Ctrl-C (exit 0) and on SIGTERM (exit 130), restoring the terminal either way', async () => {
    const term = open(['--data-dir', dataDir, 'images']);
    await term.waitFor(/records 1–19 of 20/, 'the collection given as argument');
    term.keys('C-c');
    await term.waitFor(/EXIT:0/, 'exit 0 after Ctrl-C');

    const again = open(['--data-dir', dataDir]);
    await again.waitFor(/› images/);
    const pid = again.browsePid();
    assert.ok(pid !== undefined, 'browse runs in the pane');
    process.kill(pid, 'SIGTERM');
    const screen = await again.waitFor(/EXIT:130/, 'exit 130 after SIGTERM');
    assert.doesNotMatch(screen, /piramid browse ·/);
  });

  it('works through the piramid serve holding the folder, and draws no colours with NO_COLOR', async () => {
    const server = await startServe(dataDir);
    try {
      const term = open(['--data-dir', dataDir], { NO_COLOR: '1' });
      const screen = await term.waitFor(/› images\s+20/, 'the collections through the server');
      assert.match(screen, new RegExp(`piramid browse · .* via ${server.url.replace(/[.]/g, '\\.')}`));
      const escapes = term.screen(true);
      // Reverse video and bold are allowed; colours (30-37, 90-97, 38;5;n ...) are not.
      // eslint-disable-next-line no-control-regex
      const colours = [...escapes.matchAll(/\u001B\[([0-9;]*)m/g)].flatMap((m) => (m[1] ?? '').split(';')).filter((code) => /^(3[0-8]|9[0-7]|4[0-8]|10[0-7])$/.test(code));
      assert.deepEqual(colours, [], 'no colour codes on screen');
      // eslint-disable-next-line no-control-regex
      assert.match(escapes, /\u001B\[[0-9;]*7[0-9;]*m/, 'the selection and bars in reverse video');
      term.keys('Enter');
      await term.waitFor(/records 1–19 of 20/);
      term.keys('q', 'q');
      await term.waitFor(/EXIT:0/);
    } finally {
      await server.stop();
    }
  });

  it('draws ASCII on a dumb terminal', async () => {
    const term = open(['--data-dir', dataDir, 'images'], { TERM: 'dumb' });
    const screen = await term.waitFor(/records 1–19 of 20/);
    assert.match(screen, /^> color-blue/m);
    term.keys('q', 'q');
    await term.waitFor(/EXIT:0/);
  });
});

