import type { Server } from 'node:http';

/**
 * Busy polling for `serve --busy-poll`: for a while after the server has answered its last request
 * in flight, the event loop keeps polling its sockets (a chain of setImmediate, so libuv's poll
 * waits 0 ms) instead of sleeping in epoll. A client that sends its next request within the
 * window then finds the server awake: no wake-up for the kernel to deliver, and the client's own
 * send returns sooner. Measured on this 2-core VM, one connection, 340k × 100 IVF: ~60-75 µs off
 * a ~600 µs round trip (docs/serve-performance.md). The price is a core kept busy while requests keep coming closer together
 * than the window; an idle server sleeps as before, and with requests in flight nothing spins
 * (their work, on this thread or in the thread pool, needs the core).
 *
 * Returns a function that stops it.
 */
export function busyPollAfterResponses(server: Pick<Server, 'on' | 'off'>, windowMicroseconds: number): () => void {
  const windowMs = windowMicroseconds / 1000;
  let inFlight = 0;
  let lastAnswered = 0;
  let polling = false;
  let stopped = false;
  const poll = (): void => {
    if (!stopped && inFlight === 0 && performance.now() - lastAnswered < windowMs) setImmediate(poll);
    else polling = false;
  };
  const answered = (): void => {
    inFlight -= 1;
    lastAnswered = performance.now();
    if (inFlight === 0 && !polling && !stopped) {
      polling = true;
      setImmediate(poll);
    }
  };
  const onRequest = (_request: unknown, response: { once: (event: 'close', listener: () => void) => unknown }): void => {
    inFlight += 1;
    // 'close' follows every response, finished or aborted.
    response.once('close', answered);
  };
  server.on('request', onRequest);
  return () => {
    stopped = true;
    server.off('request', onRequest);
  };
}
