import { render } from 'ink';
import type { Backend } from '../client/backend.js';
import { App } from './app.js';
import type { Theme } from './theme.js';

export interface LaunchOptions {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** The data folder or server URL, for the title line. */
  source: string;
  theme: Theme;
  initialCollection?: string;
  debounceMs?: number;
}

/** How the TUI ended: the user quit (q, Esc, Ctrl-C), or a signal stopped it. */
export type LaunchResult = { reason: 'quit' } | { reason: 'signal'; signal: NodeJS.Signals };

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[H';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs the browser full screen until the user quits or a signal arrives: on the alternate screen,
 * which is left (and the cursor shown, raw mode off) however it ends, so the shell gets its
 * terminal back as it was. Closing the backend is the caller's business, after this returns.
 */
export async function launchBrowser(backend: Backend, options: LaunchOptions): Promise<LaunchResult> {
  const { stdin, stdout, stderr } = options;
  let result: LaunchResult = { reason: 'quit' };
  stdout.write(ENTER_ALTERNATE_SCREEN);
  const instance = render(
    <App
      backend={backend}
      source={options.source}
      theme={options.theme}
      {...(options.initialCollection === undefined ? {} : { initialCollection: options.initialCollection })}
      {...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs })}
    />,
    { stdin, stdout, stderr, exitOnCtrlC: true, patchConsole: false },
  );
  const handlers = SIGNALS.map((signal) => {
    const handler = (): void => {
      result = { reason: 'signal', signal };
      instance.unmount();
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  try {
    await instance.waitUntilExit();
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    instance.cleanup();
    if (stdin.isTTY === true) stdin.setRawMode(false);
    stdin.pause();
    stdout.write(SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN);
  }
  return result;
}
