import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { Database } from '../engine/database.js';
import { KeyChecker, type ApiKeys } from './auth.js';
import { errorHandler } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { nativeRoutes } from './routes/native.js';
import { qdrantRoutes } from './routes/qdrant.js';
import { opsRoutes } from './routes/ops.js';
import { tuningRoutes } from './routes/tuning.js';
import { HealthResponse, errorResponses, sharedSchemas } from './schemas.js';

export interface AppOptions {
  /** An open database; the app never opens or closes it (the serve command does). */
  db: Database;
  /** No keys: every route is open. With keys: all but /healthz need one. */
  apiKeys?: ApiKeys;
  /** Fastify's logger option (pino); default off. */
  logger?: FastifyServerOptions['logger'];
  /** Largest JSON body in bytes (default 32 MiB); JSONL ingest bodies are streamed and exempt. */
  bodyLimit?: number;
  /** Prometheus metrics at /metrics (default true); processMetrics adds Node's own (default true). */
  metrics?: boolean | { processMetrics?: boolean };
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
}

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

/**
 * The HTTP server over an open database: the native API under /v1, health and readiness probes,
 * the OpenAPI document generated from the routes' JSON schemas, and Prometheus metrics. Not yet
 * listening: call `listen()` (or `inject()` in tests), and `close()` before closing the database.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { db } = options;
  const app = Fastify({
    ...(options.tls === undefined ? {} : { https: { cert: options.tls.cert, key: options.tls.key } }),
    logger: options.logger ?? false,
    // Every request gets an id, logged with each of its lines and returned as x-request-id; a
    // caller's own x-request-id is kept, so one id follows a request through both logs.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Strict bodies: unknown fields are errors (schemas say additionalProperties: false) and
    // nothing is coerced ("5" is not a number). Query parameters are declared as strings.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
  });
  const keys = new KeyChecker(options.apiKeys);
  const metrics = options.metrics === false ? undefined : new ServerMetrics(db, typeof options.metrics === 'object' ? options.metrics : {});

  for (const schema of sharedSchemas) app.addSchema(schema);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}.`, hint: 'See GET /openapi.json.' } });
  });
  // Hooks run on every request, the hot query route included: callback style (no promise per hook
  // per request), and only those that have work to do.
  app.addHook('onRequest', (request, reply, done) => {
    // Set before anything can fail: error replies keep headers set earlier.
    void reply.header('x-request-id', request.id);
    done();
  });
  if (keys.enabled) {
    app.addHook('onRequest', (request, _reply, done) => {
      keys.check(request, request.is404 ? 'read' : (request.routeOptions.config.access ?? 'write'));
      done();
    });
  }
  if (metrics !== undefined) {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
      metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  // JSON bodies: plain JSON.parse unless the text could hold a prototype-poisoning key, which goes
  // to Fastify's own parser (secure-json-parse: refused with a 400, as before). The query route's
  // body is mostly a vector: the two regular-expression scans of every body cost ~15% of parsing.
  const secureJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.length === 0 || text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) {
      secureJson(request, text, done);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      secureJson(request, text, done); // the same 400 as before for malformed JSON
      return;
    }
    done(null, parsed);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Piramid HTTP API', version: '1', description: 'Native REST API of a Piramid vector database (piramid serve).' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'api-key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  app.get(
    '/healthz',
    { config: { access: 'public' }, schema: { tags: ['health'], summary: 'Liveness: 200 while the process runs', security: [], response: { 200: HealthResponse } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    { config: { access: 'read' }, schema: { tags: ['health'], summary: 'Readiness: 200 while the database is open', response: { 200: HealthResponse, 503: errorResponses[503] } } },
    async () => {
      await db.listCollections(); // throws DATABASE_CLOSED (503) once the database is closed
      return { status: 'ready' };
    },
  );
  app.get('/openapi.json', { config: { access: 'read' }, schema: { hide: true } }, async () => app.swagger());
  if (metrics !== undefined) {
    app.get('/metrics', { config: { access: 'read' }, schema: { hide: true } }, async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  }
  await app.register(nativeRoutes, { prefix: '/v1', db, ...(metrics === undefined ? {} : { metrics }) });
  await app.register(qdrantRoutes, { db, ...(metrics === undefined ? {} : { metrics }) });
  await app.register(tuningRoutes, { prefix: '/v1', db });
  await app.register(opsRoutes, { prefix: '/v1', db });
  return app;
}
