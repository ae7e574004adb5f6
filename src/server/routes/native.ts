import { isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { runQuery, type QuerySpec } from '../../cli/query-runner.js';
import { runScroll } from '../../cli/scroll-runner.js';
import { validateCollectionName } from '../../engine/catalog.js';
import type { Database } from '../../engine/database.js';
import type { ChunkingOptions } from '../../engine/document-plan.js';
import { PiramidError, isPiramidError } from '../../engine/errors.js';
import { ingest, type IngestOptions } from '../../engine/ingest/ingest.js';
import { jsonlSource, type Source } from '../../engine/ingest/sources.js';
import { parseFilter, type Filter } from '../../engine/query/filter.js';
import { parseWhere } from '../../engine/query/where.js';
import type { PayloadIndexKind } from '../../engine/store/payload-index.js';
import type { CreateCollectionOptions, DocumentInput, IndexSettings } from '../../engine/types.js';
import { DEFAULT_CHUNKING } from '../../engine/document-plan.js';
import { decodeVectorBase64 } from '../../engine/vector-base64.js';
import { statsJson } from '../../ui/stats.js';
import { HttpError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import {
  CacheClearQuery,
  CacheClearResponse,
  CacheListResponse,
  CollectionParams,
  CountResponse,
  CreateBody,
  DeleteBody,
  DeleteResponse,
  DropResponse,
  GetBody,
  GetResponse,
  IndexFieldBody,
  IndexFieldResponse,
  IngestQuery,
  IngestResponse,
  ListResponse,
  QueryBody,
  QueryResponse,
  ScrollBody,
  ScrollResponse,
  StatsSchema,
  UpsertBody,
  UpsertResponse,
  errorResponses,
} from '../schemas.js';

export interface NativeRoutesOptions {
  db: Database;
  metrics?: ServerMetrics;
}

/** Media types the ingest route streams as JSONL (one document per line). */
export const JSONL_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines'];

const tags = ['collections'];

/** The native REST API, mounted under /v1. Every route declares whether it reads or writes. */
export const nativeRoutes: FastifyPluginAsyncTypebox<NativeRoutesOptions> = async (app, { db, metrics }) => {
  // Names are checked before anything touches the engine: no "..", no slashes, no surprises.
  app.addHook('preHandler', async (request) => {
    const params = request.params as { name?: unknown } | undefined;
    if (typeof params?.name === 'string') validateCollectionName(params.name);
  });

  app.get(
    '/collections',
    { config: { access: 'read' }, schema: { tags, summary: 'List collections with their stats', response: { 200: ListResponse, ...errorResponses } } },
    async () => {
      const collections = [];
      for (const config of await db.listCollections()) collections.push(statsJson(await (await db.collection(config.name)).stats()));
      return { collections };
    },
  );

  app.put(
    '/collections/:name',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Create a collection', params: CollectionParams, body: CreateBody, response: { 201: StatsSchema, ...errorResponses } },
    },
    async (request, reply) => {
      const body = request.body;
      const options: CreateCollectionOptions = {};
      if (body.dimension !== undefined) options.dimension = body.dimension;
      if (body.metric !== undefined) options.metric = body.metric;
      if (body.embedder !== undefined) options.embedder = body.embedder;
      if (body.keyword_index !== undefined) options.keywordIndex = body.keyword_index;
      if (body.payload_indexes !== undefined) options.payloadIndexes = body.payload_indexes;
      if (typeof body.index === 'string') options.index = body.index;
      else if (body.index !== undefined) {
        const index: IndexSettings = { kind: body.index.kind };
        if (body.index.m !== undefined) index.m = body.index.m;
        if (body.index.ef_search !== undefined) index.efSearch = body.index.ef_search;
        if (body.index.nlist !== undefined) index.nlist = body.index.nlist;
        if (body.index.nprobe !== undefined) index.nprobe = body.index.nprobe;
        if (body.index.datatype !== undefined) index.datatype = body.index.datatype;
        options.index = index;
      }
      const collection = await db.createCollection(request.params.name, options);
      return reply.status(201).send(statsJson(await collection.stats()));
    },
  );

  app.get(
    '/collections/:name',
    { config: { access: 'read' }, schema: { tags, summary: 'Collection info (as piramid info --json)', params: CollectionParams, response: { 200: StatsSchema, ...errorResponses } } },
    async (request) => statsJson(await (await db.collection(request.params.name)).stats()),
  );

  app.delete(
    '/collections/:name',
    { config: { access: 'write' }, schema: { tags, summary: 'Drop a collection and all its data', params: CollectionParams, response: { 200: DropResponse, ...errorResponses } } },
    async (request) => {
      await db.dropCollection(request.params.name);
      return { dropped: request.params.name };
    },
  );

  app.get(
    '/collections/:name/count',
    { config: { access: 'read' }, schema: { tags, summary: 'Live records and documents', params: CollectionParams, response: { 200: CountResponse, ...errorResponses } } },
    async (request) => {
      const stats = await (await db.collection(request.params.name)).stats();
      return { collection: stats.name, count: stats.count, documents: stats.documents };
    },
  );

  app.put(
    '/collections/:name/documents',
    {
      config: { access: 'write' },
      schema: {
        tags: ['documents'],
        summary: 'Upsert documents (a batch, validated before anything is written)',
        params: CollectionParams,
        body: UpsertBody,
        response: { 200: UpsertResponse, ...errorResponses },
      },
    },
    async (request) => {
      const collection = await db.collection(request.params.name);
      const { documents, chunking, sync } = request.body;
      const result = await collection.upsert(documents as DocumentInput[], {
        ...(chunking === undefined ? {} : { chunking: chunking === false ? false : checkedChunking(chunking, 'chunking.overlap') }),
        ...(sync === true ? { sync: true } : {}),
      });
      metrics?.ingested.inc({ collection: collection.name }, result.added + result.updated);
      return result;
    },
  );

  app.post(
    '/collections/:name/documents/get',
    {
      config: { access: 'read' },
      schema: { tags: ['documents'], summary: 'Records by id (document ids or chunk ids <doc>#<n>)', params: CollectionParams, body: GetBody, response: { 200: GetResponse, ...errorResponses } },
    },
    async (request) => {
      const { ids, with_vector: withVector } = request.body;
      const found = await (await db.collection(request.params.name)).get(ids, { withVector: withVector === true });
      const documents = found.filter((d) => d !== undefined);
      const notFound = ids.filter((_, i) => found[i] === undefined);
      return { documents, not_found: notFound };
    },
  );

  app.post(
    '/collections/:name/documents/scroll',
    {
      config: { access: 'read' },
      schema: {
        tags: ['documents'],
        summary: 'Page through records in id order (from an id, or after skipping an offset), optionally filtered',
        params: CollectionParams,
        body: ScrollBody,
        response: { 200: ScrollResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { from, offset, limit, filter, where, with_vector: withVector } = request.body;
      if (filter !== undefined && where !== undefined) throw new PiramidError('INVALID_ARGUMENT', 'Give either "where" or "filter", not both.', { location: { field: 'where' } });
      const matching = filter !== undefined ? parseFilter(filter, 'filter') : where !== undefined ? whereFilter(where) : undefined;
      const page = await runScroll(db, {
        collection: request.params.name,
        limit: limit ?? 10,
        ...(from === undefined ? {} : { from }),
        ...(offset === undefined ? {} : { offset }),
        ...(matching === undefined ? {} : { filter: matching }),
        ...(withVector === true ? { withVector: true } : {}),
      });
      return page.next === undefined ? { documents: page.records } : { documents: page.records, next: page.next };
    },
  );

  app.post(
    '/collections/:name/documents/delete',
    {
      config: { access: 'write' },
      schema: { tags: ['documents'], summary: 'Delete documents (with their chunks) or single chunks', params: CollectionParams, body: DeleteBody, response: { 200: DeleteResponse, ...errorResponses } },
    },
    async (request) => {
      const collection = await db.collection(request.params.name);
      const { ids, filter, where, sync } = request.body;
      const options = sync === true ? { sync: true } : {};
      const given = [ids !== undefined, filter !== undefined, where !== undefined].filter(Boolean).length;
      if (given !== 1) throw new PiramidError('INVALID_ARGUMENT', 'Give exactly one of "ids", "filter" or "where".', { location: { field: 'body' } });
      if (ids !== undefined) {
        const result = await collection.delete(ids, options);
        return { deleted: result.deleted, not_found: result.notFound };
      }
      const matching = filter !== undefined ? parseFilter(filter, 'filter') : parseWhere(where as string);
      return { deleted: await collection.deleteMatching(matching, options), not_found: [] };
    },
  );

  app.put(
    '/collections/:name/index-fields',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Index a metadata key (as piramid index-field), so that filters on it are answered from the index',
        params: CollectionParams,
        body: IndexFieldBody,
        response: { 200: IndexFieldResponse, ...errorResponses },
      },
    },
    async (request) => {
      const collection = await db.collection(request.params.name);
      const { key, kind } = request.body;
      const indexed = await collection.indexField(key, kind as PayloadIndexKind);
      return { collection: collection.name, key, kind, indexed };
    },
  );

  app.get(
    '/cache',
    { config: { access: 'read' }, schema: { tags: ['cache'], summary: 'The embedding cache per model (as piramid cache list --json)', response: { 200: CacheListResponse, ...errorResponses } } },
    async () => {
      const models = (await db.embeddingCache.allStats()).map((s) => ({ ...s, hit_rate: s.hits + s.misses === 0 ? 0 : s.hits / (s.hits + s.misses) }));
      return { models };
    },
  );

  app.delete(
    '/cache',
    {
      config: { access: 'write' },
      schema: { tags: ['cache'], summary: 'Remove cached embeddings, all or of one model (as piramid cache clear)', querystring: CacheClearQuery, response: { 200: CacheClearResponse, ...errorResponses } },
    },
    async (request) => ({ removed: await db.embeddingCache.clear(request.query.model) }),
  );

  app.post(
    '/collections/:name/query',
    {
      config: { access: 'read' },
      schema: {
        tags: ['search'],
        summary: 'Top-k search by text or vector, with filters, keyword and hybrid modes (as piramid query --json)',
        params: CollectionParams,
        body: QueryBody,
        response: { 200: QueryResponse, ...errorResponses },
      },
    },
    async (request) => {
      const spec = querySpec(request.params.name, request.body);
      // Requests that arrive together share faiss calls (Collection.coalesceSearches).
      (await db.collection(spec.collection)).coalesceSearches = true;
      const result = await runQuery(db, spec);
      metrics?.queryDuration.observe({ collection: result.collection, mode: spec.mode ?? 'vector' }, result.took_ms / 1000);
      return result;
    },
  );

  // JSONL bodies are handed to the route as the request stream, never buffered: an ingest of any
  // size streams through the engine in batches (bodyLimit does not apply to them).
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(JSONL_TYPES, (_request, payload, done) => done(null, payload));
    scope.post(
      '/collections/:name/ingest',
      {
        config: { access: 'write' },
        schema: {
          tags: ['documents'],
          summary: 'Stream JSONL documents (application/x-ndjson) into a collection, created when missing',
          description: 'The body is JSONL: one {"id"?, "text"?, "vector"?, "metadata"?} document per line. Batches are written as they arrive.',
          params: CollectionParams,
          querystring: IngestQuery,
          consumes: JSONL_TYPES,
          response: { 200: IngestResponse, ...errorResponses },
        },
      },
      async (request) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!JSONL_TYPES.includes(type)) {
          throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `The ingest route takes JSONL (${JSONL_TYPES[0]}), not "${type || 'no content type'}".`);
        }
        const { source: folder, prune } = request.query;
        if (folder !== undefined && !isAbsolute(folder)) {
          throw new PiramidError('INVALID_ARGUMENT', `query parameter source must be an absolute folder path; got "${folder}".`, { location: { field: 'source' } });
        }
        if (prune === 'true' && folder === undefined) {
          throw new PiramidError('INVALID_ARGUMENT', 'prune=true needs source (the folder whose documents are pruned).', { location: { field: 'prune' } });
        }
        const body = request.body as Readable;
        const started = Date.now();
        const jsonl = jsonlSource(body, '<body>');
        const source: Source = folder === undefined ? jsonl : { ...jsonl, folder };
        const summary = await ingest(db, source, { ...ingestOptions(request.params.name, request.query), ...(prune === 'true' ? { prune: true } : {}) });
        // A folder with no files left is a valid ingest: it prunes every document of that folder.
        if (summary.read === 0 && folder === undefined) {
          throw new PiramidError('INVALID_INPUT', 'The body held no documents.', { location: { file: '<body>' } });
        }
        metrics?.ingested.inc({ collection: summary.collection }, summary.added + summary.updated);
        return {
          collection: summary.collection,
          created: summary.created,
          read: summary.read,
          added: summary.added,
          updated: summary.updated,
          unchanged: summary.unchanged,
          skipped: summary.skipped,
          records: summary.records,
          pruned: summary.pruned,
          interrupted: summary.interrupted,
          errors: summary.errors,
          took_ms: Date.now() - started,
        };
      },
    );
  });
};

/** The request body of a query, as the spec runQuery (shared with `piramid query`) takes. */
export function querySpec(collection: string, body: QueryBody): QuerySpec {
  const spec: QuerySpec = { collection, k: body.k ?? 10 };
  if (body.text !== undefined) spec.text = body.text;
  if (body.vector !== undefined) spec.vector = typeof body.vector === 'string' ? decodeVectorBase64(body.vector, { field: 'vector' }) : body.vector;
  if (body.offset !== undefined) spec.offset = body.offset;
  if (body.score_threshold !== undefined) spec.scoreThreshold = body.score_threshold;
  if (body.mode !== undefined) spec.mode = body.mode;
  if (body.alpha !== undefined) spec.alpha = body.alpha;
  if (body.ef !== undefined) spec.ef = body.ef;
  if (body.nprobe !== undefined) spec.nprobe = body.nprobe;
  if (body.exact === true) spec.exact = true;
  if (body.with_vector === true) spec.withVector = true;
  if (body.group_by_doc === true) spec.groupByDocument = true;
  if (body.where !== undefined && body.filter !== undefined) {
    throw new PiramidError('INVALID_ARGUMENT', 'Give either "where" or "filter", not both.', { location: { field: 'where' } });
  }
  if (body.where !== undefined) spec.filter = whereFilter(body.where);
  if (body.filter !== undefined) spec.filter = parseFilter(body.filter);
  return spec;
}

/** parseWhere speaks of `--where`; over HTTP the field is `where`. */
function whereFilter(text: string): Filter {
  try {
    return parseWhere(text);
  } catch (err) {
    if (!isPiramidError(err)) throw err;
    throw new PiramidError(err.code, err.message.replace(/^--where\b/, 'where'), {
      ...(err.hint === undefined ? {} : { hint: err.hint.replace(/^Example: --where /, 'Example: ') }),
      location: { ...err.location, field: 'where' },
      cause: err,
    });
  }
}

function ingestOptions(collection: string, query: IngestQuery): IngestOptions {
  const options: IngestOptions = { collection };
  if (query.create === 'false') options.create = false;
  else {
    const create: CreateCollectionOptions = {};
    if (query.embedder !== undefined) create.embedder = query.embedder;
    if (query.metric !== undefined) create.metric = query.metric;
    if (query.index !== undefined) create.index = query.index;
    options.create = create;
  }
  if (query.batch_size !== undefined) options.batchSize = positive('batch_size', query.batch_size);
  if (query.on_error !== undefined) options.onError = query.on_error;
  if (query.chunk === 'false') options.chunking = false;
  else if (query.chunk_size !== undefined || query.chunk_overlap !== undefined) {
    const size = query.chunk_size === undefined ? DEFAULT_CHUNKING.size : positive('chunk_size', query.chunk_size);
    const overlap = query.chunk_overlap === undefined ? Math.min(DEFAULT_CHUNKING.overlap, size - 1) : Number(query.chunk_overlap);
    options.chunking = checkedChunking({ size, overlap }, 'chunk_overlap');
  }
  if (query.text_field !== undefined || query.id_field !== undefined) {
    options.fieldMap = { ...(query.text_field === undefined ? {} : { text: query.text_field }), ...(query.id_field === undefined ? {} : { id: query.id_field }) };
  }
  if (query.sync === 'true') options.sync = true;
  return options;
}

/** Overlap must stay below the chunk size (as `ingest --chunk-overlap` requires). */
function checkedChunking(chunking: ChunkingOptions, field: string): ChunkingOptions {
  if (chunking.overlap >= chunking.size) {
    throw new PiramidError('INVALID_ARGUMENT', `chunk overlap (${chunking.overlap}) must be smaller than the chunk size (${chunking.size}).`, { location: { field } });
  }
  return chunking;
}

function positive(field: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new PiramidError('INVALID_ARGUMENT', `query parameter ${field} must be a positive integer; got "${text}".`, { location: { field } });
  return value;
}
