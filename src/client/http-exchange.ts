import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

export interface ExchangeOptions {
  method: string;
  headers: Record<string, string>;
  /** Sent whole, or streamed as it is produced (a JSONL ingest). */
  body?: string | AsyncIterable<Uint8Array | string>;
  signal?: AbortSignal;
}

/**
 * One HTTP request to `url` through node:http(s); resolves with the response once its headers
 * arrive. Why not fetch: in a one-shot CLI process the first fetch loads undici (~35 ms here) and
 * its kept-alive socket then holds the process ~75 ms before it can exit, so a command that went
 * through a server took ~250 ms against ~150 ms run on the folder. node:http is loaded in a few
 * milliseconds, and its agent's idle sockets do not keep the process alive.
 */
export function exchange(url: string, options: ExchangeOptions): Promise<IncomingMessage> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: options.method, headers: options.headers, ...(options.signal === undefined ? {} : { signal: options.signal }) }, resolve);
    request.on('error', reject);
    const { body } = options;
    if (body === undefined || typeof body === 'string') {
      request.end(body);
      return;
    }
    // pipe, not pipeline: an upload cut short after the server has answered (it refused the
    // input) must not destroy the socket the answer is being read from. A source that fails
    // fails the request; a request that fails stops the source.
    const source = Readable.from(body);
    source.on('error', (err) => request.destroy(err));
    request.on('error', () => source.destroy());
    source.pipe(request);
  });
}

/** The whole body of a response as text. */
export async function responseText(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) text += chunk as string;
  return text;
}
