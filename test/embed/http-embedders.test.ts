/**
 * The HTTP embedding providers against real HTTP servers on 127.0.0.1 (random ports) that speak
 * OpenAI's /v1/embeddings and Ollama's /api/embed with deterministic vectors.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { Embedder } from '../../src/engine/embed/embedder.js';
import { backoffDelay, parseRetryAfter, postJson, type Sleep } from '../../src/engine/embed/http-client.js';
import { createOllamaEmbedder } from '../../src/engine/embed/ollama-embedder.js';
import { createOpenAIEmbedder, openAIEmbeddingsUrl } from '../../src/engine/embed/openai-embedder.js';
import { isPiramidError, PiramidError } from '../../src/engine/errors.js';
import { seededRandom } from '../../src/engine/random.js';

const DIM = 8;
const MODEL = 'test-embed-small';
/** Retries in milliseconds, so that the whole file stays fast. */
const FAST = { retryBaseDelayMs: 2, retryMaxDelayMs: 10 } as const;

/** FNV-1a of the text seeds the vector: the same text always gives the same numbers. */
function vectorFor(text: string, dim: number): number[] {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const random = seededRandom(hash);
  return Array.from({ length: dim }, () => random() * 2 - 1);
}

const expected = (text: string, dim = DIM): Float32Array => Float32Array.from(vectorFor(text, dim));

interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: { model?: unknown; input?: unknown };
}

type Reply =
  | { readonly status?: number; readonly headers?: Readonly<Record<string, string>>; readonly json?: unknown; readonly raw?: string; readonly delayMs?: number }
  | 'hang'
  | 'reset';

type Handler = (request: SeenRequest, n: number) => Reply;

interface TestServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** Most requests the server was answering at the same moment. */
  readonly maxInFlight: () => number;
  close(): Promise<void>;
}

async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text === '' ? {} : (JSON.parse(text) as SeenRequest['body']),
      };
      requests.push(seen);
      const reply = handler(seen, requests.length);
      if (reply === 'hang') return;
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const send = (): void => {
        inFlight--;
        const body = reply.raw ?? JSON.stringify(reply.json ?? {});
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(body);
      };
      if (reply.delayMs === undefined) send();
      else setTimeout(send, reply.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxInFlight: () => maxInFlight,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function inputOf(request: SeenRequest): string[] {
  const input = request.body.input;
  assert.ok(Array.isArray(input), 'input is an array');
  return input as string[];
}

/** An OpenAI answer, listed in reverse so that only `index` gives the order. */
function openAIReply(request: SeenRequest, dim = DIM): Reply {
  const data = inputOf(request).map((text, index) => ({ object: 'embedding', index, embedding: vectorFor(text, dim) }));
  return { json: { object: 'list', model: request.body.model, data: data.reverse(), usage: { prompt_tokens: 1, total_tokens: 1 } } };
}

function ollamaReply(request: SeenRequest, dim = DIM): Reply {
  return { json: { model: request.body.model, embeddings: inputOf(request).map((text) => vectorFor(text, dim)) } };
}

async function withServer<T>(handler: Handler, run: (server: TestServer) => Promise<T>): Promise<T> {
  const server = await startServer(handler);
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

async function withEmbedder<T>(create: Promise<Embedder>, run: (embedder: Embedder) => Promise<T>): Promise<T> {
  const embedder = await create;
  try {
    return await run(embedder);
  } finally {
    await embedder.close();
  }
}

/** The error `promise` rejects with, checked to be a PiramidError with `code`. */
async function rejection(promise: Promise<unknown>, code: string): Promise<PiramidError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isPiramidError(err), `a PiramidError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a ${code} rejection`);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const texts = (n: number, prefix = 'text'): string[] => Array.from({ length: n }, (_, i) => `${prefix} ${i}: ${'x'.repeat(i % 7)}`);

function assertVectors(actual: Float32Array[], inputs: readonly string[], dim = DIM): void {
  assert.equal(actual.length, inputs.length);
  actual.forEach((vector, i) => {
    assert.ok(vector instanceof Float32Array);
    assert.deepEqual(vector, expected(inputs[i] as string, dim), `vector ${i} belongs to text ${i}`);
  });
}

describe('openai embedder', () => {
  test('150 texts in batches of 64: three requests, vectors in input order', async () => {
    await withServer((r) => openAIReply(r), async (server) => {
      const embedder = await createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: DIM });
      assert.equal(server.requests.length, 0, 'a given dimension needs no probe');
      assert.equal(embedder.name, 'openai');
      assert.equal(embedder.model, MODEL);
      assert.equal(embedder.dimension, DIM);
      const inputs = texts(150);
      assertVectors(await embedder.embed(inputs), inputs);
      assert.deepEqual(
        server.requests.map((r) => inputOf(r).length),
        [64, 64, 22],
      );
      assert.deepEqual(server.requests.flatMap(inputOf), inputs, 'every text sent once, batches in order');
      for (const request of server.requests) {
        assert.equal(request.method, 'POST');
        assert.equal(request.path, '/v1/embeddings');
        assert.equal(request.body.model, MODEL);
        assert.match(String(request.headers['content-type']), /^application\/json/);
        assert.equal(request.headers.authorization, undefined, 'no key, no header');
      }
      await embedder.close();
      await embedder.close(); // twice is fine
      await assert.rejects(embedder.embed(['late']), /closed/);
    });
  });

  test('an empty input makes no request', async () => {
    await withServer((r) => openAIReply(r), async (server) => {
      await withEmbedder(createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: DIM }), async (embedder) => {
        assert.deepEqual(await embedder.embed([]), []);
        assert.equal(server.requests.length, 0);
      });
    });
  });

  test('the dimension is discovered by one probe request at creation', async () => {
    await withServer((r) => openAIReply(r, 24), async (server) => {
      await withEmbedder(createOpenAIEmbedder({ model: MODEL, baseUrl: `${server.url}/v1/` }), async (embedder) => {
        assert.equal(embedder.dimension, 24);
        assert.equal(server.requests.length, 1);
        assert.equal(inputOf(server.requests[0] as SeenRequest).length, 1);
        assert.equal(server.requests[0]?.path, '/v1/embeddings', 'a base URL ending in /v1 is not doubled');
        const inputs = texts(5);
        assertVectors(await embedder.embed(inputs), inputs, 24);
      });
    });
  });

  test('base URLs: bare, /v1, /v1/embeddings, with a path prefix', () => {
    assert.equal(openAIEmbeddingsUrl('https://api.openai.com').href, 'https://api.openai.com/v1/embeddings');
    assert.equal(openAIEmbeddingsUrl('http://127.0.0.1:11434/v1').href, 'http://127.0.0.1:11434/v1/embeddings');
    assert.equal(openAIEmbeddingsUrl('http://h:1/v1/embeddings/').href, 'http://h:1/v1/embeddings');
    assert.equal(openAIEmbeddingsUrl('http://h:1/proxy/').href, 'http://h:1/proxy/v1/embeddings');
  });

  test('a wrong dimension is DIMENSION_MISMATCH naming expected, got and the model', async () => {
    await withServer((r) => openAIReply(r), async (server) => {
      await withEmbedder(createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: 16 }), async (embedder) => {
        const err = await rejection(embedder.embed(['one', 'two']), 'DIMENSION_MISMATCH');
        assert.match(err.message, /dimension 8, expected 16/);
        assert.match(err.message, new RegExp(MODEL));
      });
    });
  });

  test('malformed answers are EMBEDDER_UNAVAILABLE saying what is wrong', async () => {
    const answers: Reply[] = [
      { json: { data: 'nope' } },
      { json: { data: [{ index: 0, embedding: vectorFor('a', DIM) }] } }, // one vector for two texts
      { json: { data: [{ index: 0, embedding: [1, 'x'] }, { index: 1, embedding: [1, 2] }] } },
      { json: { data: [{ index: 0, embedding: [1, 2] }, { index: 0, embedding: [1, 2] }] } },
      { raw: '<html>Bad gateway</html>' },
    ];
    const problems = [/no "data" array/, /1 embeddings for 2 texts/, /data\[0\]\.embedding\[1\] is "x"/, /data\[1\]\.index is 0/, /not JSON.*Bad gateway/];
    let n = 0;
    await withServer(() => answers[n++] as Reply, async (server) => {
      await withEmbedder(createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: 2, ...FAST }), async (embedder) => {
        for (const problem of problems) {
          const err = await rejection(embedder.embed(['a', 'b']), 'EMBEDDER_UNAVAILABLE');
          assert.match(err.message, problem);
          assert.ok(err.hint);
        }
      });
      assert.equal(server.requests.length, answers.length, 'malformed answers are not retried');
    });
  });

  test('base64 embeddings are decoded', async () => {
    await withServer(
      (r) => ({
        json: {
          data: inputOf(r).map((text, index) => ({ index, embedding: Buffer.from(expected(text).buffer).toString('base64') })),
        },
      }),
      async (server) => {
        await withEmbedder(createOpenAIEmbedder({ model: MODEL, baseUrl: server.url }), async (embedder) => {
          const inputs = texts(3);
          assertVectors(await embedder.embed(inputs), inputs);
        });
      },
    );
  });
});

describe('ollama embedder', () => {
  test('150 texts in batches of 64 to /api/embed, vectors in input order; dimension probed', async () => {
    await withServer((r) => ollamaReply(r), async (server) => {
      await withEmbedder(createOllamaEmbedder({ model: 'nomic-embed-text', baseUrl: server.url }), async (embedder) => {
        assert.equal(embedder.name, 'ollama');
        assert.equal(embedder.model, 'nomic-embed-text');
        assert.equal(embedder.dimension, DIM);
        assert.equal(server.requests.length, 1, 'the probe');
        const inputs = texts(150, 'ollama');
        assertVectors(await embedder.embed(inputs), inputs);
        assert.deepEqual(
          server.requests.slice(1).map((r) => inputOf(r).length),
          [64, 64, 22],
        );
        for (const request of server.requests) {
          assert.equal(request.path, '/api/embed');
          assert.equal(request.body.model, 'nomic-embed-text');
        }
      });
    });
  });

  test('a missing model (404) is not retried and says how to pull it', async () => {
    await withServer(
      (r) => ({ status: 404, json: { error: `model "${String(r.body.model)}" not found, try pulling it first` } }),
      async (server) => {
        const err = await rejection(createOllamaEmbedder({ model: 'nope', baseUrl: `${server.url}/`, ...FAST }), 'EMBEDDER_UNAVAILABLE');
        assert.match(err.message, /HTTP 404/);
        assert.match(err.message, /not found, try pulling it first/);
        assert.match(err.hint ?? '', /ollama pull nope/);
        assert.equal(server.requests.length, 1);
      },
    );
  });

  test('a wrong dimension is DIMENSION_MISMATCH', async () => {
    await withServer((r) => ollamaReply(r), async (server) => {
      await withEmbedder(createOllamaEmbedder({ model: 'm', baseUrl: server.url, dimension: 3 }), async (embedder) => {
        const err = await rejection(embedder.embed(['x']), 'DIMENSION_MISMATCH');
        assert.match(err.message, /dimension 8, expected 3/);
        assert.match(err.message, /"m"/);
      });
    });
  });

  test('Ollama not running: EMBEDDER_UNAVAILABLE with the Ollama hint', async () => {
    const port = await closedPort();
    const err = await rejection(createOllamaEmbedder({ model: 'm', baseUrl: `http://127.0.0.1:${port}`, retries: 1, ...FAST }), 'EMBEDDER_UNAVAILABLE');
    assert.match(err.message, /Could not connect to http:\/\/127\.0\.0\.1:\d+\/api\/embed \(ECONNREFUSED\)/);
    assert.match(err.hint ?? '', /ollama serve/);
    assert.match(err.hint ?? '', /PIRAMID_EMBED_URL/);
  });
});

describe('HTTP behaviour shared by the providers', () => {
  test('the concurrency limit holds, also across embed calls at once', async () => {
    await withServer((r) => ({ ...(openAIReply(r) as object), delayMs: 15 }), async (server) => {
      await withEmbedder(
        createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: DIM, batchSize: 2, concurrency: 3 }),
        async (embedder) => {
          const a = texts(20, 'a');
          const b = texts(10, 'b');
          const [va, vb] = await Promise.all([embedder.embed(a), embedder.embed(b)]);
          assertVectors(va, a);
          assertVectors(vb, b);
          assert.equal(server.requests.length, 15);
          assert.equal(server.maxInFlight(), 3, 'three requests in flight, never more');
        },
      );
    });
  });

  test('429 with Retry-After, then 503, then success', async () => {
    const replies: Reply[] = [
      { status: 429, headers: { 'retry-after': '0' }, json: { error: { message: 'Rate limit reached' } } },
      { status: 503, raw: 'overloaded' },
    ];
    let n = 0;
    const retried: string[] = [];
    await withServer((r) => replies[n++] ?? openAIReply(r), async (server) => {
      const embedder = await createOpenAIEmbedder({
        model: MODEL,
        baseUrl: server.url,
        dimension: DIM,
        ...FAST,
        onRetry: (event) => retried.push(`${event.attempt} ${event.reason} ${event.delayMs}`),
      });
      const inputs = texts(4);
      assertVectors(await embedder.embed(inputs), inputs);
      assert.equal(server.requests.length, 3);
      assert.equal(retried[0], '1 HTTP 429 Too Many Requests 0', 'Retry-After: 0 means at once');
      assert.match(retried[1] ?? '', /^2 HTTP 503 Service Unavailable \d+$/);
      await embedder.close();
    });
  });

  test('Retry-After (and retry-after-ms) is honoured, capped by retryMaxDelayMs', async () => {
    const slept: number[] = [];
    const sleep: Sleep = async (ms) => {
      slept.push(ms);
    };
    let n = 0;
    await withServer(
      (r) => {
        n++;
        if (n === 1) return { status: 429, headers: { 'retry-after': '1' }, raw: '' };
        if (n === 2) return { status: 503, headers: { 'retry-after': '120' }, raw: '' };
        if (n === 3) return { status: 429, headers: { 'retry-after': '7', 'retry-after-ms': '250' }, raw: '' };
        return openAIReply(r);
      },
      async (server) => {
        const body = await postJson(`${server.url}/v1/embeddings`, { model: MODEL, input: ['a'] }, { sleep, retryMaxDelayMs: 5000 });
        assert.ok(typeof body === 'object' && body !== null && 'data' in body);
        assert.deepEqual(slept, [1000, 5000, 250], 'seconds; capped; retry-after-ms first');
      },
    );
  });

  test('Retry-After as an HTTP-date; backoff with full jitter', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now), 3000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0, 'a date in the past: at once');
    assert.equal(parseRetryAfter('2', now), 2000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(backoffDelay(0, 100, 1000, () => 0.5), 50);
    assert.equal(backoffDelay(3, 100, 1000, () => 0.5), 400);
    assert.equal(backoffDelay(10, 100, 1000, () => 0.999), 999, 'capped by the max delay');
    assert.equal(backoffDelay(2, 100, 1000, () => 0), 0);
  });

  test('a connection reset is retried', async () => {
    let n = 0;
    await withServer((r) => (++n === 1 ? 'reset' : openAIReply(r)), async (server) => {
      await withEmbedder(createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: DIM, ...FAST }), async (embedder) => {
        const inputs = texts(2);
        assertVectors(await embedder.embed(inputs), inputs);
        assert.equal(server.requests.length, 2);
      });
    });
  });

  test('gives up after `retries` retries with a clear error', async () => {
    await withServer(() => ({ status: 503, json: { error: 'model is loading' } }), async (server) => {
      await withEmbedder(createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: DIM, retries: 2, ...FAST }), async (embedder) => {
        const err = await rejection(embedder.embed(['a']), 'EMBEDDER_UNAVAILABLE');
        assert.equal(server.requests.length, 3, 'one attempt and two retries');
        assert.match(err.message, new RegExp(`POST ${server.url}/v1/embeddings failed with HTTP 503 Service Unavailable \\(3 attempts\\)`));
        assert.match(err.message, /model is loading/);
        assert.ok(err.hint);
      });
    });
  });

  test('a server that never answers times out: EMBEDDER_UNAVAILABLE naming the timeout', async () => {
    await withServer(() => 'hang', async (server) => {
      await withEmbedder(
        createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: DIM, timeoutMs: 100, retries: 1, ...FAST }),
        async (embedder) => {
          const started = Date.now();
          const err = await rejection(embedder.embed(['a']), 'EMBEDDER_UNAVAILABLE');
          assert.match(err.message, /timed out after 100 ms/);
          assert.match(err.message, /2 attempts/);
          assert.equal(server.requests.length, 2, 'a timeout is retried');
          assert.ok(Date.now() - started < 2000);
        },
      );
    });
  });

  test('connection refused: EMBEDDER_UNAVAILABLE with the hint', async () => {
    const port = await closedPort();
    const err = await rejection(
      createOpenAIEmbedder({ model: MODEL, baseUrl: `http://127.0.0.1:${port}`, retries: 2, ...FAST }),
      'EMBEDDER_UNAVAILABLE',
    );
    assert.match(err.message, new RegExp(`Could not connect to http://127\\.0\\.0\\.1:${port}/v1/embeddings \\(ECONNREFUSED\\) \\(3 attempts\\)`));
    assert.match(err.hint ?? '', /Is the server running\? Set --embed-url or PIRAMID_EMBED_URL/);
  });

  test('the API key goes in the Authorization header and never into a message', async () => {
    const key = 'sk-test-VERY-SECRET-0123456789';
    const echo = (r: SeenRequest): string => `you sent ${String(r.headers.authorization)} (${key})`;
    const modes: Array<(r: SeenRequest) => Reply> = [
      (r) => ({ status: 401, json: { error: { message: `Incorrect API key provided: ${echo(r)}` } } }),
      (r) => ({ status: 403, raw: echo(r) }),
      (r) => ({ status: 503, raw: echo(r) }),
      (r) => ({ status: 400, raw: echo(r) }),
      (r) => ({ json: { data: echo(r) } }),
      (r) => ({ raw: echo(r) }),
    ];
    let mode = 0;
    await withServer((r) => (modes[mode] as (r: SeenRequest) => Reply)(r), async (server) => {
      const codes: string[] = [];
      for (mode = 0; mode < modes.length; mode++) {
        const before = server.requests.length;
        let err: unknown;
        try {
          await createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, apiKey: key, retries: 1, ...FAST });
        } catch (caught) {
          err = caught;
        }
        assert.ok(err instanceof PiramidError, `mode ${mode} fails`);
        codes.push(err.code);
        assert.equal(server.requests[before]?.headers.authorization, `Bearer ${key}`);
        for (const text of [err.message, err.hint ?? '', JSON.stringify(err), String(err.stack)]) {
          assert.ok(!text.includes(key), `mode ${mode}: the key stays out of "${text}"`);
          assert.ok(!text.includes('VERY-SECRET'), `mode ${mode}: no part of the key in "${text}"`);
        }
        assert.match(err.message, /\[redacted\]/, 'what the server echoed is masked, not dropped');
        const attempts = server.requests.length - before;
        assert.equal(attempts, mode === 2 ? 2 : 1, `mode ${mode}: only 503 is retried`);
      }
      assert.deepEqual(codes, ['EMBEDDER_AUTH', 'EMBEDDER_AUTH', 'EMBEDDER_UNAVAILABLE', 'EMBEDDER_UNAVAILABLE', 'EMBEDDER_UNAVAILABLE', 'EMBEDDER_UNAVAILABLE']);
    });
  });

  test('401 is not retried and says to check the key', async () => {
    await withServer(() => ({ status: 401, json: { error: { message: 'Incorrect API key provided' } } }), async (server) => {
      await withEmbedder(createOllamaEmbedder({ model: 'm', baseUrl: server.url, dimension: DIM, apiKey: 'k-123456' }), async (embedder) => {
        const err = await rejection(embedder.embed(['a']), 'EMBEDDER_AUTH');
        assert.equal(server.requests.length, 1);
        assert.match(err.message, /HTTP 401 Unauthorized: .*Incorrect API key provided/);
        assert.match(err.hint ?? '', /API key/);
      });
    });
  });

  test('a failing batch fails the call; close() cancels requests in flight', async () => {
    await withServer((r) => (inputOf(r)[0] === 'bad' ? { status: 400, raw: 'input too long' } : 'hang'), async (server) => {
      const embedder = await createOpenAIEmbedder({ model: MODEL, baseUrl: server.url, dimension: DIM, batchSize: 1, concurrency: 2 });
      const err = await rejection(embedder.embed(['slow', 'bad', 'never sent']), 'EMBEDDER_UNAVAILABLE');
      assert.match(err.message, /HTTP 400 Bad Request: input too long/);
      assert.equal(server.requests.length, 2, 'the third batch was never sent');

      const pending = embedder.embed(['slow']);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await embedder.close();
      await assert.rejects(pending, /closed while embedding/);
    });
  });

  test('bad options are INVALID_ARGUMENT', async () => {
    const bad: Array<Record<string, unknown>> = [
      { model: '' },
      { model: MODEL, batchSize: 0 },
      { model: MODEL, concurrency: 1.5 },
      { model: MODEL, dimension: -1 },
      { model: MODEL, timeoutMs: 0 },
      { model: MODEL, retries: -1 },
      { model: MODEL, baseUrl: 'ftp://example.com' },
      { model: MODEL, baseUrl: 'not a url' },
      { model: MODEL, baseUrl: 'http://user:pass-word@127.0.0.1:1' },
    ];
    for (const options of bad) {
      const err = await rejection(createOpenAIEmbedder(options as unknown as Parameters<typeof createOpenAIEmbedder>[0]), 'INVALID_ARGUMENT');
      assert.ok(!err.message.includes('pass-word'));
    }
  });
});
