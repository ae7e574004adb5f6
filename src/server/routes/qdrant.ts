import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { validateCollectionName } from '../../engine/catalog.js';
import type { Collection } from '../../engine/collection.js';
import type { Database } from '../../engine/database.js';
import { DEFAULT_EF_CONSTRUCTION, DEFAULT_HNSW_M } from '../../engine/index/index-plan.js';
import { PiramidError, isPiramidError } from '../../engine/errors.js';
import { parseFilter, type Filter } from '../../engine/query/filter.js';
import type { CollectionConfig, DocumentInput, DocumentView, IndexSettings, Metadata, SearchHit, SearchOptions } from '../../engine/types.js';
import { errorResponse } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import {
  DISTANCE_TO_METRIC,
  METRIC_TO_DISTANCE,
  documentIdToPointId,
  normalizeFilterIds,
  outputVector,
  pointIdToDocumentId,
  selectPayload,
  wantsVector,
  type PointId,
  type WithPayload,
} from '../qdrant-convert.js';

export interface QdrantRoutesOptions {
  db: Database;
  metrics?: ServerMetrics;
}

/** The Qdrant REST API version whose shapes these routes follow (answered by GET /). */
export const QDRANT_API_VERSION = '1.18.0';

const tags = ['qdrant'];
const MAX_LIMIT = 10_000;
const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const open = { additionalProperties: true } as const;

const Params = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const PointIdSchema = Type.Union([Type.Integer({ minimum: 0 }), Type.String()], { description: 'Unsigned integer or UUID.' });
const FilterSchema = Type.Object({}, { additionalProperties: true, description: "Qdrant's filter JSON." });
const WithPayloadSchema = Type.Union([
  Type.Boolean(),
  Type.Array(Type.String()),
  Type.Object({ include: Type.Union([Type.String(), Type.Array(Type.String())]) }),
  Type.Object({ exclude: Type.Union([Type.String(), Type.Array(Type.String())]) }),
]);
const WithVectorSchema = Type.Union([Type.Boolean(), Type.Array(Type.String())]);
const SearchParamsSchema = Type.Object({ hnsw_ef: nullable(Type.Integer({ minimum: 1 })), exact: nullable(Type.Boolean()) }, open);
const Limit = Type.Integer({ minimum: 1, maximum: MAX_LIMIT });
/** Qdrant's HnswConfigDiff: `m` and `ef_construct` are used, the rest (full_scan_threshold, on_disk...) accepted and ignored. */
const HnswConfigSchema = Type.Object({ m: nullable(Type.Integer({ minimum: 0 })), ef_construct: nullable(Type.Integer({ minimum: 0 })) }, open);
type HnswConfig = Static<typeof HnswConfigSchema>;
/** ef_construct accepted at creation: Qdrant's minimum, and the engine's tuning maximum (PATCH ef_construction). */
const EF_CONSTRUCT_MIN = 4;
const EF_CONSTRUCT_MAX = 4096;

const VectorParams = Type.Object(
  {
    size: Type.Integer({ minimum: 1, maximum: 65536 }),
    distance: Type.String({ description: 'Cosine, Dot or Euclid.' }),
    hnsw_config: nullable(HnswConfigSchema),
  },
  open,
);
const CreateBody = Type.Object({ vectors: Type.Union([VectorParams, Type.Object({}, open)]), hnsw_config: nullable(HnswConfigSchema) }, open);
const PointStruct = Type.Object({ id: PointIdSchema, vector: Type.Unknown(), payload: nullable(Type.Record(Type.String(), Type.Unknown())) }, open);
const UpsertBody = Type.Union([
  Type.Object({ points: Type.Array(PointStruct) }, open),
  Type.Object(
    { batch: Type.Object({ ids: Type.Array(PointIdSchema), vectors: Type.Array(Type.Unknown()), payloads: nullable(Type.Array(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]))) }, open) },
    open,
  ),
]);
const DeleteBody = Type.Union([Type.Object({ points: Type.Array(PointIdSchema) }, open), Type.Object({ filter: FilterSchema }, open)]);
const GetBody = Type.Object({ ids: Type.Array(PointIdSchema), with_payload: nullable(WithPayloadSchema), with_vector: nullable(WithVectorSchema) }, open);
const SearchBody = Type.Object(
  {
    vector: Type.Unknown({ description: 'The query vector (unnamed vectors only).' }),
    limit: Type.Optional(Limit),
    offset: nullable(Type.Integer({ minimum: 0 })),
    filter: nullable(FilterSchema),
    params: nullable(SearchParamsSchema),
    with_payload: nullable(WithPayloadSchema),
    with_vector: nullable(WithVectorSchema),
    score_threshold: nullable(Type.Number()),
  },
  open,
);
const QueryBody = Type.Object(
  {
    query: Type.Optional(Type.Unknown({ description: 'A vector, or {"nearest": vector}; absent: points in id order.' })),
    limit: nullable(Limit),
    offset: nullable(Type.Integer({ minimum: 0 })),
    filter: nullable(FilterSchema),
    params: nullable(SearchParamsSchema),
    with_payload: nullable(WithPayloadSchema),
    with_vector: nullable(WithVectorSchema),
    score_threshold: nullable(Type.Number()),
  },
  open,
);
const CountBody = Type.Object({ filter: nullable(FilterSchema), exact: nullable(Type.Boolean()) }, open);
const ScrollBody = Type.Object(
  { offset: nullable(PointIdSchema), limit: nullable(Limit), filter: nullable(FilterSchema), with_payload: nullable(WithPayloadSchema), with_vector: nullable(WithVectorSchema) },
  open,
);
const WaitQuery = Type.Object({ wait: Type.Optional(Type.String()) }, open);
const PayloadIndexBody = Type.Object({ field_name: Type.String({ minLength: 1 }), field_schema: Type.Unknown() }, open);

interface Envelope {
  result: unknown;
  status: 'ok';
  time: number;
}

const seconds = (reply: FastifyReply): number => reply.elapsedTime / 1000;
const ok = (reply: FastifyReply, result: unknown): Envelope => ({ result, status: 'ok', time: seconds(reply) });

/** Fields of Qdrant's API these routes do not implement: refused when given, never ignored. */
function refuse(body: Record<string, unknown>, fields: readonly string[]): void {
  for (const field of fields) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new PiramidError('INVALID_ARGUMENT', `${field}: not supported by Piramid's Qdrant-compatible API.`, { location: { field } });
    }
  }
}

/** Qdrant's vector datatypes: every float16 and uint8 value is exact in float32, which is what Piramid stores. */
const QDRANT_DATATYPES: readonly unknown[] = ['float32', 'float16', 'uint8'];

/** Accepts Qdrant's `vectors.datatype` (stored as float32 whatever it says); a value Qdrant does not know is a 400. */
function checkDatatype(datatype: unknown): void {
  if (datatype === undefined || datatype === null || QDRANT_DATATYPES.includes(datatype)) return;
  throw new PiramidError('INVALID_ARGUMENT', `vectors.datatype: ${JSON.stringify(datatype)} is not a Qdrant datatype; use float32, float16 or uint8 (each is stored as float32).`, {
    location: { field: 'vectors.datatype' },
  });
}

function vectorOf(value: unknown, field: string): number[] {
  if (Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'number' && Number.isFinite(x))) return value as number[];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    throw new PiramidError('INVALID_ARGUMENT', `${field}: named, sparse and multi-vectors are not supported; give one dense vector (an array of numbers).`, { location: { field } });
  }
  throw new PiramidError('INVALID_ARGUMENT', `${field}: expected a non-empty array of numbers.`, { location: { field } });
}

function filterOf(value: unknown): Filter | undefined {
  if (value === undefined || value === null) return undefined;
  return normalizeFilterIds(parseFilter(value));
}

/** Qdrant's `wait` query parameter: true waits for durability (fsync) here. */
function syncOf(query: { wait?: string }): { sync?: true } {
  return query.wait === 'true' ? { sync: true } : {};
}

interface PointView {
  id: PointId;
  payload?: Metadata;
  vector?: number[];
}

function pointOf(doc: DocumentView | SearchHit, config: CollectionConfig, withPayload: WithPayload, payloadByDefault: boolean): PointView {
  const point: PointView = { id: documentIdToPointId(doc.id) };
  const payload = selectPayload(doc.metadata, withPayload, payloadByDefault);
  if (payload !== undefined) point.payload = payload;
  if (doc.vector !== undefined) point.vector = outputVector(doc.vector, config.metric);
  return point;
}

function scoredPoint(hit: SearchHit, config: CollectionConfig, withPayload: WithPayload): PointView & { version: number; score: number } {
  const { id, payload, vector } = pointOf(hit, config, withPayload, false);
  return { id, version: 0, score: hit.score, ...(payload === undefined ? {} : { payload }), ...(vector === undefined ? {} : { vector }) };
}

interface SearchInput {
  vector: number[];
  limit: number;
  offset?: number | null;
  filter?: unknown;
  params?: { hnsw_ef?: number | null; exact?: boolean | null } | null;
  with_vector?: boolean | string[] | null;
  score_threshold?: number | null;
}

async function vectorSearch(collection: Collection, input: SearchInput): Promise<SearchHit[]> {
  const options: SearchOptions = { k: input.limit, withVector: wantsVector(input.with_vector) };
  if (input.offset !== undefined && input.offset !== null) options.offset = input.offset;
  const filter = filterOf(input.filter);
  if (filter !== undefined) options.filter = filter;
  if (input.score_threshold !== undefined && input.score_threshold !== null) options.scoreThreshold = input.score_threshold;
  const ef = input.params?.hnsw_ef;
  if (ef !== undefined && ef !== null) options.efSearch = ef;
  // Qdrant's params.exact: score every point, bypassing the approximate index (hnsw_ef is then moot).
  if (input.params?.exact === true) options.exact = true;
  // Requests that arrive together share faiss calls (Collection.coalesceSearches).
  collection.coalesceSearches = true;
  return (await collection.search(input.vector, options)).hits;
}

/**
 * The hnsw_config of a create request: the one in `vectors` overrides the top-level one field by
 * field, as in Qdrant. Undefined when neither is given.
 */
function hnswConfigOf(collectionLevel: HnswConfig | null | undefined, vectorLevel: HnswConfig | null | undefined): HnswConfig | undefined {
  if ((collectionLevel === undefined || collectionLevel === null) && (vectorLevel === undefined || vectorLevel === null)) return undefined;
  return {
    m: vectorLevel?.m ?? collectionLevel?.m ?? null,
    ef_construct: vectorLevel?.ef_construct ?? collectionLevel?.ef_construct ?? null,
  };
}

function indexSettingsOf(hnsw: HnswConfig | undefined): IndexSettings {
  // No index config: piramid's own default (exact while small, a calibrated IVF once large).
  if (hnsw === undefined) return { kind: 'auto' };
  if (hnsw.m === 0) return { kind: 'flat' }; // Qdrant: m = 0 disables the graph (ef_construct has nothing to build)
  const settings: IndexSettings = { kind: 'hnsw' };
  if (hnsw.m !== undefined && hnsw.m !== null) {
    if (hnsw.m < 4 || hnsw.m > 128) throw new PiramidError('INVALID_ARGUMENT', `hnsw_config.m: must be 0 or from 4 to 128; got ${hnsw.m}.`, { location: { field: 'hnsw_config.m' } });
    settings.m = hnsw.m;
  }
  const ef = hnsw.ef_construct;
  if (ef !== undefined && ef !== null) {
    if (ef < EF_CONSTRUCT_MIN || ef > EF_CONSTRUCT_MAX) {
      throw new PiramidError('INVALID_ARGUMENT', `hnsw_config.ef_construct: must be from ${EF_CONSTRUCT_MIN} to ${EF_CONSTRUCT_MAX}; got ${ef}.`, {
        location: { field: 'hnsw_config.ef_construct' },
      });
    }
    settings.efConstruction = ef;
  }
  return settings;
}

/**
 * Qdrant's hnsw_config of a collection, from its index settings. HNSW: its m and efConstruction
 * as configured (the engine's defaults when unset). Other kinds build no graph: m 0 (Qdrant's
 * "no graph"), and ef_construct the default an HNSW index would use, so that the answer, sent back
 * as a create request, is valid.
 */
function hnswConfigView(index: IndexSettings): { m: number; ef_construct: number; full_scan_threshold: number } {
  const hnsw = index.kind === 'hnsw';
  return {
    m: hnsw ? (index.m ?? DEFAULT_HNSW_M) : 0,
    ef_construct: hnsw ? (index.efConstruction ?? DEFAULT_EF_CONSTRUCTION) : DEFAULT_EF_CONSTRUCTION,
    full_scan_threshold: 10000,
  };
}

const PAYLOAD_SCHEMAS: Record<string, 'keyword' | 'integer' | 'float'> = { keyword: 'keyword', integer: 'integer', float: 'float' };

/** The message Qdrant would prefix: "Not found: ...", "Wrong input: ...". */
function qdrantMessage(status: number, message: string): string {
  if (status === 404) return `Not found: ${message}`;
  if (status === 400 || status === 409) return `Wrong input: ${message}`;
  if (status === 401 || status === 403) return message;
  return `Service internal error: ${message}`;
}

/**
 * A subset of Qdrant's REST API at Qdrant's own paths, so Qdrant clients (@qdrant/js-client-rest,
 * qdrant-client for Python, LangChain and LlamaIndex stores over them) work against Piramid:
 * collections with one unnamed dense vector, points with integer or UUID ids and a payload,
 * search, the query API (nearest), get, count, scroll, delete by ids or filter, payload indexes.
 * Answers are Qdrant's envelope {"result", "status": "ok", "time"}; errors {"status": {"error"}}.
 */
export const qdrantRoutes: FastifyPluginAsyncTypebox<QdrantRoutesOptions> = async (app, { db, metrics }) => {
  let operationId = 0;

  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = errorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    void reply.status(status).send({ status: { error: qdrantMessage(status, body.error.message) }, time: seconds(reply) });
  });
  app.addHook('preHandler', async (request) => {
    const params = request.params as { name?: unknown } | undefined;
    if (typeof params?.name === 'string') validateCollectionName(params.name);
  });

  const collectionOf = (name: string): Promise<Collection> => db.collection(name);

  app.get('/', { config: { access: 'read' }, schema: { tags, summary: 'Version (Qdrant: root)' } }, async () => ({
    title: 'piramid - Qdrant-compatible API',
    version: QDRANT_API_VERSION,
  }));

  app.get('/collections', { config: { access: 'read' }, schema: { tags, summary: 'List collections (Qdrant)' } }, async (_request, reply) =>
    ok(reply, { collections: (await db.listCollections()).map((config) => ({ name: config.name })) }),
  );

  app.put(
    '/collections/:name',
    { config: { access: 'write' }, schema: { tags, summary: 'Create a collection (Qdrant)', params: Params, body: CreateBody } },
    async (request, reply) => {
      const body = request.body as Static<typeof CreateBody> & Record<string, unknown>;
      refuse(body, ['sparse_vectors', 'init_from', 'sharding_method']);
      const vectors = body.vectors as Record<string, unknown>;
      if (typeof vectors.size !== 'number') {
        throw new PiramidError('INVALID_ARGUMENT', 'vectors: named vectors are not supported; give {"size": N, "distance": "Cosine" | "Dot" | "Euclid"}.', { location: { field: 'vectors' } });
      }
      const params = vectors as Static<typeof VectorParams>;
      refuse(vectors, ['multivector_config']);
      checkDatatype(vectors.datatype);
      const metric = DISTANCE_TO_METRIC[params.distance];
      if (metric === undefined) {
        throw new PiramidError('INVALID_ARGUMENT', `vectors.distance: "${params.distance}" is not supported; use Cosine, Dot or Euclid.`, { location: { field: 'vectors.distance' } });
      }
      const hnsw = hnswConfigOf(body.hnsw_config, params.hnsw_config);
      await db.createCollection(request.params.name, { embedder: 'none', dimension: params.size, metric, index: indexSettingsOf(hnsw), keywordIndex: false });
      return ok(reply, true);
    },
  );

  app.get('/collections/:name', { config: { access: 'read' }, schema: { tags, summary: 'Collection info (Qdrant)', params: Params } }, async (request, reply) => {
    const collection = await collectionOf(request.params.name);
    const stats = await collection.stats();
    const { config } = collection;
    const payloadSchema: Record<string, { data_type: string; points: number }> = {};
    for (const [key, kind] of Object.entries(config.payloadIndexes ?? {})) payloadSchema[key] = { data_type: kind, points: stats.count };
    return ok(reply, {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: config.index.kind === 'flat' ? 0 : stats.count,
      points_count: stats.count,
      segments_count: 1,
      config: {
        params: {
          vectors: { size: config.dimension, distance: METRIC_TO_DISTANCE[config.metric] },
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: hnswConfigView(config.index),
        optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, flush_interval_sec: 5 },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: null,
      },
      payload_schema: payloadSchema,
    });
  });

  app.get('/collections/:name/exists', { config: { access: 'read' }, schema: { tags, summary: 'Whether a collection exists (Qdrant)', params: Params } }, async (request, reply) =>
    ok(reply, { exists: await db.hasCollection(request.params.name) }),
  );

  app.delete('/collections/:name', { config: { access: 'write' }, schema: { tags, summary: 'Drop a collection (Qdrant)', params: Params } }, async (request, reply) => {
    try {
      await db.dropCollection(request.params.name);
    } catch (err) {
      if (isPiramidError(err) && err.code === 'COLLECTION_NOT_FOUND') return ok(reply, false);
      throw err;
    }
    return ok(reply, true);
  });

  app.put(
    '/collections/:name/index',
    { config: { access: 'write' }, schema: { tags, summary: 'Create a payload index (Qdrant): keyword, integer or float', params: Params, body: PayloadIndexBody, querystring: WaitQuery } },
    async (request, reply) => {
      const { field_name: key, field_schema: schema } = request.body;
      const type = typeof schema === 'object' && schema !== null && 'type' in schema ? (schema as { type: unknown }).type : schema;
      const kind = typeof type === 'string' ? PAYLOAD_SCHEMAS[type] : undefined;
      if (kind === undefined) {
        throw new PiramidError('INVALID_ARGUMENT', `field_schema: ${JSON.stringify(type)} is not supported; use "keyword", "integer" or "float".`, { location: { field: 'field_schema' } });
      }
      await (await collectionOf(request.params.name)).indexField(key, kind);
      return ok(reply, { operation_id: operationId++, status: 'completed' });
    },
  );

  app.put(
    '/collections/:name/points',
    { config: { access: 'write' }, schema: { tags, summary: 'Upsert points (Qdrant)', params: Params, body: UpsertBody, querystring: WaitQuery } },
    async (request, reply) => {
      const body = request.body as Record<string, unknown>;
      refuse(body, ['shard_key', 'update_filter']);
      if (body.update_mode !== undefined && body.update_mode !== null && body.update_mode !== 'upsert') refuse(body, ['update_mode']);
      const documents: DocumentInput[] = [];
      const add = (id: unknown, vector: unknown, payload: unknown, at: string): void => {
        const doc: DocumentInput = { id: pointIdToDocumentId(id, `${at}.id`), vector: vectorOf(vector, `${at}.vector`) };
        if (payload !== undefined && payload !== null) doc.metadata = payload as Metadata;
        documents.push(doc);
      };
      if ('batch' in body) {
        const batch = body.batch as { ids: unknown[]; vectors: unknown[]; payloads?: unknown[] | null };
        if (batch.vectors.length !== batch.ids.length || (batch.payloads !== undefined && batch.payloads !== null && batch.payloads.length !== batch.ids.length)) {
          throw new PiramidError('INVALID_ARGUMENT', 'batch: ids, vectors and payloads must have the same length.', { location: { field: 'batch' } });
        }
        batch.ids.forEach((id, i) => add(id, batch.vectors[i], batch.payloads?.[i], `batch[${i}]`));
      } else {
        (body.points as { id: unknown; vector: unknown; payload?: unknown }[]).forEach((p, i) => add(p.id, p.vector, p.payload, `points[${i}]`));
      }
      const collection = await collectionOf(request.params.name);
      const result = await collection.upsert(documents, { chunking: false, ...syncOf(request.query) });
      metrics?.ingested.inc({ collection: collection.name }, result.added + result.updated);
      return ok(reply, { operation_id: operationId++, status: 'completed' });
    },
  );

  app.post(
    '/collections/:name/points/delete',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete points by ids or by filter (Qdrant)', params: Params, body: DeleteBody, querystring: WaitQuery } },
    async (request, reply) => {
      const body = request.body as Record<string, unknown>;
      refuse(body, ['shard_key']);
      const collection = await collectionOf(request.params.name);
      if ('points' in body) {
        const ids = (body.points as unknown[]).map((id, i) => pointIdToDocumentId(id, `points[${i}]`));
        for (let i = 0; i < ids.length; i += MAX_LIMIT) await collection.delete(ids.slice(i, i + MAX_LIMIT), syncOf(request.query));
      } else {
        await collection.deleteMatching(filterOf(body.filter) ?? {}, syncOf(request.query));
      }
      return ok(reply, { operation_id: operationId++, status: 'completed' });
    },
  );

  app.post('/collections/:name/points', { config: { access: 'read' }, schema: { tags, summary: 'Points by ids (Qdrant)', params: Params, body: GetBody } }, async (request, reply) => {
    const body = request.body;
    refuse(body, ['shard_key']);
    const collection = await collectionOf(request.params.name);
    const ids = [...new Set(body.ids.map((id, i) => pointIdToDocumentId(id, `ids[${i}]`)))];
    const found = await collection.get(ids, { withVector: wantsVector(body.with_vector) });
    const points = found.filter((doc): doc is DocumentView => doc !== undefined).map((doc) => pointOf(doc, collection.config, body.with_payload, true));
    return ok(reply, points);
  });

  app.get('/collections/:name/points/:id', { config: { access: 'read' }, schema: { tags, summary: 'One point (Qdrant)', params: Type.Object({ name: Type.String(), id: Type.String() }) } }, async (request, reply) => {
    const collection = await collectionOf(request.params.name);
    const raw = request.params.id;
    const id = pointIdToDocumentId(/^[0-9]+$/.test(raw) ? Number(raw) : raw, 'id');
    const [doc] = await collection.get([id], { withVector: true });
    if (doc === undefined) throw new PiramidError('DOCUMENT_NOT_FOUND', `No point with id ${raw} found`);
    return ok(reply, pointOf(doc, collection.config, true, true));
  });

  app.post(
    '/collections/:name/points/search',
    { config: { access: 'read' }, schema: { tags, summary: 'Nearest points to a vector (Qdrant, deprecated there in favour of query)', params: Params, body: SearchBody } },
    async (request, reply) => {
      const body = request.body;
      refuse(body, ['shard_key']);
      const collection = await collectionOf(request.params.name);
      const hits = await vectorSearch(collection, { ...body, vector: vectorOf(body.vector, 'vector'), limit: body.limit ?? 10 });
      return ok(reply, hits.map((hit) => scoredPoint(hit, collection.config, body.with_payload)));
    },
  );

  app.post(
    '/collections/:name/points/query',
    { config: { access: 'read' }, schema: { tags, summary: 'Universal query (Qdrant): nearest by vector, or points in id order', params: Params, body: QueryBody } },
    async (request, reply) => {
      const body = request.body;
      refuse(body, ['shard_key', 'prefetch', 'using', 'lookup_from']);
      const collection = await collectionOf(request.params.name);
      const limit = body.limit ?? 10;
      let query = body.query;
      if (typeof query === 'object' && query !== null && !Array.isArray(query) && 'nearest' in query) {
        refuse(query as Record<string, unknown>, ['mmr']);
        query = (query as { nearest: unknown }).nearest;
      }
      if (query === undefined || query === null) {
        // No query: points in id order, score 0 (as Qdrant).
        const offset = body.offset ?? 0;
        if (offset + limit > MAX_LIMIT) throw new PiramidError('INVALID_ARGUMENT', `offset + limit: at most ${MAX_LIMIT}.`);
        const filter = filterOf(body.filter);
        const page = await collection.scroll({ limit: offset + limit, withVector: wantsVector(body.with_vector), ...(filter === undefined ? {} : { filter }) });
        const points = page.records.slice(offset).map((doc) => ({ ...pointOf(doc, collection.config, body.with_payload, false), version: 0, score: 0 }));
        return ok(reply, { points });
      }
      if (!Array.isArray(query)) {
        throw new PiramidError('INVALID_ARGUMENT', 'query: only nearest-vector queries are supported (a vector, or {"nearest": vector}).', { location: { field: 'query' } });
      }
      const hits = await vectorSearch(collection, { ...body, vector: vectorOf(query, 'query'), limit });
      return ok(reply, { points: hits.map((hit) => scoredPoint(hit, collection.config, body.with_payload)) });
    },
  );

  app.post('/collections/:name/points/count', { config: { access: 'read' }, schema: { tags, summary: 'Count points, optionally filtered (Qdrant)', params: Params, body: CountBody } }, async (request, reply) => {
    const body = (request.body ?? {}) as Static<typeof CountBody>;
    refuse(body, ['shard_key']);
    const collection = await collectionOf(request.params.name);
    return ok(reply, { count: await collection.count(filterOf(body.filter)) });
  });

  app.post(
    '/collections/:name/points/scroll',
    { config: { access: 'read' }, schema: { tags, summary: 'Page through points in id order (Qdrant)', params: Params, body: ScrollBody } },
    async (request, reply) => {
      const body = (request.body ?? {}) as Static<typeof ScrollBody>;
      refuse(body, ['shard_key', 'order_by']);
      const collection = await collectionOf(request.params.name);
      const filter = filterOf(body.filter);
      const page = await collection.scroll({
        limit: body.limit ?? 10,
        withVector: wantsVector(body.with_vector),
        ...(body.offset === undefined || body.offset === null ? {} : { from: pointIdToDocumentId(body.offset, 'offset') }),
        ...(filter === undefined ? {} : { filter }),
      });
      return ok(reply, {
        points: page.records.map((doc) => pointOf(doc, collection.config, body.with_payload, true)),
        next_page_offset: page.next === undefined ? null : documentIdToPointId(page.next),
      });
    },
  );
};
