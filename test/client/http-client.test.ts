import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { PiramidClient } from '../../src/client/http-client.js';
import { isPiramidError } from '../../src/engine/errors.js';

/** A real HTTP server on 127.0.0.1 (random port) with `handler`; closed by the returned function. */
async function serving(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

describe('PiramidClient over node:http', () => {
  it('sends JSON with the API key, parses answers, and maps error bodies to coded errors', async () => {
    const seen: { method?: string; url?: string; key?: string; body?: unknown }[] = [];
    const server = await serving((req, res) => {
      void bodyOf(req).then((text) => {
        seen.push({ method: req.method, url: req.url, key: req.headers['api-key'] as string, body: text === '' ? undefined : JSON.parse(text) });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/v1/collections/missing') {
          res.statusCode = 404;
          res.end(JSON.stringify({ error: { code: 'COLLECTION_NOT_FOUND', message: 'Collection "missing" does not exist.', hint: 'piramid list' } }));
        } else res.end(JSON.stringify({ collection: 'c', k: 1, took_ms: 0.1, hits: [{ id: 'a', score: 1 }], plan: {} }));
      });
    });
    try {
      const client = new PiramidClient(server.url, { apiKey: 'secret' });
      const answer = await client.query('c', { vector: [1, 0], k: 1 });
      assert.deepEqual(answer.hits, [{ id: 'a', score: 1 }]);
      assert.deepEqual(seen[0], { method: 'POST', url: '/v1/collections/c/query', key: 'secret', body: { vector: [1, 0], k: 1 } });
      await assert.rejects(client.info('missing'), (err: unknown) => isPiramidError(err) && err.code === 'COLLECTION_NOT_FOUND' && err.hint === 'piramid list');
    } finally {
      await server.close();
    }
  });

  it('streams an ingest body as it is produced', async () => {
    let received = '';
    const server = await serving((req, res) => {
      req.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ collection: 'c', created: false, read: received.split('\n').filter(Boolean).length, added: 0, updated: 0, unchanged: 0, skipped: 0, records: 0, pruned: 0, interrupted: false, errors: [], took_ms: 1 }));
      });
    });
    try {
      const lines = new PassThrough();
      const answer = new PiramidClient(server.url).ingest('c', lines);
      lines.write('{"id":"a"}\n');
      await sleep(100);
      assert.equal(received, '{"id":"a"}\n', 'the server has the first line while the rest is still being produced');
      lines.end('{"id":"b"}\n{"id":"c"}\n');
      assert.equal((await answer).read, 3);
      assert.equal(received, '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n');
    } finally {
      await server.close();
    }
  });

  it('reports the server\'s error when it answers before the upload ends, and fails when the source fails', async () => {
    const server = await serving((_req, res) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'INVALID_INPUT', message: 'line 1: field "vector" must be an array.' } }));
    });
    try {
      async function* slowLines(): AsyncGenerator<string> {
        for (let i = 0; i < 20; i++) {
          yield `{"id":"${i}"}\n`;
          await sleep(5);
        }
      }
      await assert.rejects(new PiramidClient(server.url).ingest('c', slowLines()), (err: unknown) => isPiramidError(err) && err.code === 'INVALID_INPUT' && /line 1/.test(err.message));
      async function* failing(): AsyncGenerator<string> {
        yield '{"id":"a"}\n';
        await sleep(20);
        throw new Error('the input file went away');
      }
      const slowServer = await serving((req, res) => {
        req.resume().on('end', () => res.end('{}'));
      });
      try {
        await assert.rejects(new PiramidClient(slowServer.url).ingest('c', failing()), (err: unknown) => isPiramidError(err) && /the input file went away/.test(err.message));
      } finally {
        await slowServer.close();
      }
    } finally {
      await server.close();
    }
  });

  it('health is true for 200 and false when nothing listens; unreachable and silent servers are IO_ERRORs naming the URL', async () => {
    const silent = await serving(() => undefined); // accepts, never answers
    const ok = await serving((_req, res) => res.end('{"status":"ok"}'));
    const closedUrl = ok.url.replace(/:\d+$/, ':1');
    try {
      assert.equal(await new PiramidClient(ok.url).health(), true);
      assert.equal(await new PiramidClient(closedUrl).health(500), false);
      assert.equal(await new PiramidClient(silent.url).health(200), false);
      await assert.rejects(new PiramidClient(closedUrl).listCollections(), (err: unknown) => isPiramidError(err) && err.code === 'IO_ERROR' && err.message.includes(closedUrl) && /ECONNREFUSED/.test(err.message));
      await assert.rejects(new PiramidClient(silent.url, { timeoutMs: 200 }).listCollections(), (err: unknown) => isPiramidError(err) && err.code === 'IO_ERROR' && /did not answer within/.test(err.message));
    } finally {
      await silent.close();
      await ok.close();
    }
  });
});
