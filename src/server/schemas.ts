/**
 * JSON schemas of the native API (TypeBox): they validate requests, shape responses and are the
 * source of /openapi.json. Objects refuse unknown fields, so a misspelt option is an error, not a
 * silent no-op. Field names are snake_case like the CLI's JSON output.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PAYLOAD_INDEX_KINDS } from '../engine/store/payload-index.js';
import { INDEX_KINDS, IVF_DATATYPES, METRICS, SEARCH_MODES } from '../engine/types.js';

const closed = { additionalProperties: false } as const;
/** A string enum (`{"type":"string","enum":[...]}` in the OpenAPI document), typed as its members. */
const literals = <const T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description === undefined ? {} : { description }) });

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code, e.g. COLLECTION_NOT_FOUND.' }),
      message: Type.String(),
      hint: Type.Optional(Type.String()),
      location: Type.Optional(
        Type.Object({
          file: Type.Optional(Type.String()),
          line: Type.Optional(Type.Integer()),
          item: Type.Optional(Type.Integer()),
          field: Type.Optional(Type.String()),
          column: Type.Optional(Type.Integer()),
        }),
      ),
    }),
  },
  { $id: 'Error' },
);

/** Every error status a route may answer with. */
export const errorResponses = {
  400: Type.Ref(ErrorSchema),
  401: Type.Ref(ErrorSchema),
  403: Type.Ref(ErrorSchema),
  404: Type.Ref(ErrorSchema),
  409: Type.Ref(ErrorSchema),
  413: Type.Ref(ErrorSchema),
  423: Type.Ref(ErrorSchema),
  500: Type.Ref(ErrorSchema),
  502: Type.Ref(ErrorSchema),
  503: Type.Ref(ErrorSchema),
};

export const CollectionParams = Type.Object(
  { name: Type.String({ description: 'Collection name: 1-64 letters, digits, "_", "-", "."', minLength: 1, maxLength: 64 }) },
  closed,
);

const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'Any JSON object.' });
const Vector = Type.Array(Type.Number(), { minItems: 1, description: 'Vector of the collection dimension.' });
/** A vector in a request: numbers, or base64 of little-endian float32 values (OpenAI's `encoding_format: "base64"`). */
const VectorInput = Type.Union([
  Vector,
  Type.String({ minLength: 1, description: 'Base64 of the little-endian float32 values (as OpenAI returns embeddings with encoding_format "base64"): a quarter of the bytes, ~10x cheaper to read.' }),
]);

export const StatsSchema = Type.Object(
  {
    name: Type.String(),
    dimension: Type.Integer(),
    metric: Type.String(),
    index: Type.String(),
    index_state: Type.String({ description: 'The faiss structure in use, e.g. HNSW32,Flat.' }),
    embedder: Type.String(),
    count: Type.Integer({ description: 'Live records (chunks, or whole documents).' }),
    documents: Type.Integer(),
    deleted: Type.Integer({ description: 'Index labels of deleted or replaced records (freed by compact).' }),
    size_bytes: Type.Integer(),
    embedding_cache: Type.Union([
      Type.Object({ entries: Type.Integer(), hits: Type.Integer(), misses: Type.Integer(), hit_rate: Type.Number() }),
      Type.Null(),
    ]),
  },
  { $id: 'CollectionStats' },
);

export const ListResponse = Type.Object({ collections: Type.Array(Type.Ref(StatsSchema)) });

export const CreateBody = Type.Object(
  {
    dimension: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, description: 'Required with embedder "none".' })),
    metric: Type.Optional(literals(METRICS, 'Default cosine.')),
    index: Type.Optional(
      Type.Union([
        literals(INDEX_KINDS),
        Type.Object(
          {
            kind: literals(INDEX_KINDS),
            m: Type.Optional(Type.Integer({ minimum: 4, maximum: 128 })),
            ef_search: Type.Optional(Type.Integer({ minimum: 1 })),
            nlist: Type.Optional(Type.Integer({ minimum: 1 })),
            nprobe: Type.Optional(Type.Integer({ minimum: 1 })),
            datatype: Type.Optional(literals(IVF_DATATYPES, 'IVF/auto: how the lists store vectors (default float16: half the memory, faster scans; float32: exact scores).')),
          },
          closed,
        ),
      ]),
    ),
    embedder: Type.Optional(Type.String({ description: '"use" (default), "openai:<model>", "ollama:<model>" or "none".' })),
    keyword_index: Type.Optional(Type.Boolean({ description: 'BM25 index for keyword/hybrid search (default true).' })),
    payload_indexes: Type.Optional(Type.Record(Type.String(), literals(PAYLOAD_INDEX_KINDS), { description: 'Metadata keys to index for filters.' })),
  },
  closed,
);
export type CreateBody = Static<typeof CreateBody>;

const DocumentInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1 })),
    text: Type.Optional(Type.String()),
    vector: Type.Optional(VectorInput),
    metadata: Type.Optional(Metadata),
  },
  closed,
);

const Chunking = Type.Union([
  Type.Object({ size: Type.Integer({ minimum: 1 }), overlap: Type.Integer({ minimum: 0 }) }, closed),
  Type.Literal(false),
]);

export const UpsertBody = Type.Object(
  {
    documents: Type.Array(DocumentInput, { description: 'Documents to add, replace or (when identical) skip.' }),
    chunking: Type.Optional(Chunking),
    sync: Type.Optional(Type.Boolean({ description: 'fsync before answering.' })),
  },
  closed,
);
export type UpsertBody = Static<typeof UpsertBody>;

export const UpsertResponse = Type.Object({
  added: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  records: Type.Integer(),
  ids: Type.Array(Type.String()),
});

const IdList = Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 10_000 });

export const GetBody = Type.Object({ ids: IdList, with_vector: Type.Optional(Type.Boolean()) }, closed);
export type GetBody = Static<typeof GetBody>;

const ChunkPosition = Type.Object({ index: Type.Integer(), start: Type.Integer(), end: Type.Integer() });

const RecordSchema = Type.Object({
  id: Type.String(),
  text: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
  parent: Type.Optional(Type.String()),
  chunk: Type.Optional(ChunkPosition),
  vector: Type.Optional(Type.Array(Type.Number())),
});

export const GetResponse = Type.Object({
  documents: Type.Array(RecordSchema, { description: 'The records found, in the order asked.' }),
  not_found: Type.Array(Type.String()),
});

/** A page of records in id order: from an id (inclusive), after skipping `offset` matching records. */
export const ScrollBody = Type.Object(
  {
    from: Type.Optional(Type.String({ minLength: 1, description: 'Id the page starts at (inclusive): the "next" of the previous page. Default: the first record.' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, description: 'Matching records to skip (after "from") before the page starts.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 10 })),
    filter: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Qdrant filter JSON: must/should/must_not.' })),
    where: Type.Optional(Type.String({ description: 'Filter in the --where language.' })),
    with_vector: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type ScrollBody = Static<typeof ScrollBody>;

export const ScrollResponse = Type.Object({
  documents: Type.Array(RecordSchema, { description: 'Records in id order (byte order of the UTF-8 id).' }),
  next: Type.Optional(Type.String({ description: 'Id the following page starts at ("from"); absent after the last page.' })),
});

/** By ids (documents with their chunks, or single chunks), or every record a filter matches. */
export const DeleteBody = Type.Object(
  {
    ids: Type.Optional(IdList),
    filter: Type.Optional(Type.Unknown({ description: 'Qdrant filter JSON' })),
    where: Type.Optional(Type.String({ description: 'Filter in the --where language' })),
    sync: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type DeleteBody = Static<typeof DeleteBody>;
export const DeleteResponse = Type.Object({ deleted: Type.Integer(), not_found: Type.Array(Type.String()) });

export const CountResponse = Type.Object({ collection: Type.String(), count: Type.Integer(), documents: Type.Integer() });
export const DropResponse = Type.Object({ dropped: Type.String() });

export const QueryBody = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, description: 'Query text (embedded with the collection model; BM25 terms in keyword/hybrid).' })),
    vector: Type.Optional(VectorInput),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 10 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    score_threshold: Type.Optional(Type.Number()),
    mode: Type.Optional(literals(SEARCH_MODES)),
    alpha: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Hybrid: weight of the vector side (default: reciprocal rank fusion).' })),
    filter: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Qdrant filter JSON: must/should/must_not.' })),
    where: Type.Optional(Type.String({ description: 'Filter in the --where language, e.g. year >= 2020 and lang = "en".' })),
    ef: Type.Optional(Type.Integer({ minimum: 1 })),
    nprobe: Type.Optional(Type.Integer({ minimum: 1 })),
    exact: Type.Optional(Type.Boolean({ description: 'Score every live record from its stored vector, bypassing the approximate index (ef and nprobe then do not apply).' })),
    with_vector: Type.Optional(Type.Boolean()),
    group_by_doc: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type QueryBody = Static<typeof QueryBody>;

const Hit = Type.Object({
  id: Type.String(),
  score: Type.Number(),
  text: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
  parent: Type.Optional(Type.String()),
  chunk: Type.Optional(ChunkPosition),
  vector: Type.Optional(Type.Array(Type.Number())),
});

export const QueryResponse = Type.Object({
  collection: Type.String(),
  k: Type.Integer(),
  took_ms: Type.Number(),
  hits: Type.Array(Hit),
  plan: Type.Object({}, { additionalProperties: true, description: 'How the query was answered (strategy, filter, counts).' }),
});

const BooleanText = Type.Union([Type.Literal('true'), Type.Literal('false')]);
const IntegerText = Type.String({ pattern: '^[0-9]{1,9}$' });

export const IngestQuery = Type.Object(
  {
    create: Type.Optional(BooleanText),
    embedder: Type.Optional(Type.String({ description: 'Embedder of a collection this ingest creates.' })),
    metric: Type.Optional(literals(METRICS)),
    index: Type.Optional(literals(INDEX_KINDS)),
    batch_size: Type.Optional(IntegerText),
    on_error: Type.Optional(Type.Union([Type.Literal('abort'), Type.Literal('skip')])),
    chunk_size: Type.Optional(IntegerText),
    chunk_overlap: Type.Optional(IntegerText),
    chunk: Type.Optional(BooleanText),
    text_field: Type.Optional(Type.String({ minLength: 1 })),
    id_field: Type.Optional(Type.String({ minLength: 1 })),
    sync: Type.Optional(BooleanText),
    source: Type.Optional(
      Type.String({ minLength: 1, description: 'Absolute path of the folder the documents were read from: recorded with each document, for prune.' }),
    ),
    prune: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'With source: delete the documents of that folder this ingest did not send.' })),
  },
  closed,
);
export type IngestQuery = Static<typeof IngestQuery>;

export const IngestResponse = Type.Object({
  collection: Type.String(),
  created: Type.Boolean(),
  read: Type.Integer(),
  added: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  skipped: Type.Integer(),
  records: Type.Integer(),
  pruned: Type.Integer({ description: 'Documents of the source folder deleted by prune (0 without prune).' }),
  interrupted: Type.Boolean(),
  errors: Type.Array(
    Type.Object({
      code: Type.String(),
      message: Type.String(),
      location: Type.Object({ file: Type.Optional(Type.String()), line: Type.Optional(Type.Integer()), field: Type.Optional(Type.String()) }),
    }),
  ),
  took_ms: Type.Number(),
});

export const IndexFieldBody = Type.Object({ key: Type.String({ minLength: 1, description: 'Metadata key (dots for nested keys).' }), kind: literals(PAYLOAD_INDEX_KINDS) }, closed);
export type IndexFieldBody = Static<typeof IndexFieldBody>;
export const IndexFieldResponse = Type.Object({ collection: Type.String(), key: Type.String(), kind: literals(PAYLOAD_INDEX_KINDS), indexed: Type.Integer({ description: 'Records indexed.' }) });

const CacheModel = Type.Object({ model: Type.String({ description: '<provider>:<model>' }), entries: Type.Integer(), hits: Type.Integer(), misses: Type.Integer(), hit_rate: Type.Number() });
export const CacheListResponse = Type.Object({ models: Type.Array(CacheModel) });
export const CacheClearQuery = Type.Object({ model: Type.Optional(Type.String({ minLength: 1, description: 'Only this model (<provider>:<model>).' })) }, closed);
export type CacheClearQuery = Static<typeof CacheClearQuery>;
export const CacheClearResponse = Type.Object({ removed: Type.Integer() });

export const HealthResponse = Type.Object({ status: Type.String() });

/** Shared schemas registered once with app.addSchema (referenced by $id). */
export const sharedSchemas: TSchema[] = [ErrorSchema, StatsSchema];

const TuningValues = {
  m: Type.Optional(Type.Integer()),
  ef_search: Type.Optional(Type.Integer()),
  ef_construction: Type.Optional(Type.Integer()),
  nlist: Type.Optional(Type.Integer()),
  nprobe: Type.Optional(Type.Integer()),
  datatype: Type.Optional(literals(IVF_DATATYPES)),
};

/** PATCH /v1/collections/:name: search defaults and HNSW efConstruction; null restores the default. */
export const TuningBody = Type.Object(
  {
    ef_search: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10_000 }), Type.Null()], { description: 'HNSW: default candidate list of a query.' })),
    ef_construction: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 4096 }), Type.Null()], { description: 'HNSW: candidate list while inserting (vectors added from now on).' }),
    ),
    nprobe: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 65_536 }), Type.Null()], { description: 'IVF/auto: default lists probed by a query.' })),
  },
  closed,
);
export type TuningBody = Static<typeof TuningBody>;

export const TuningResponse = Type.Object({
  collection: Type.String(),
  kind: Type.String(),
  index_state: Type.String({ description: 'The faiss structure in use now.' }),
  settings: Type.Object(
    {
      ...TuningValues,
      calibrated: Type.Optional(
        Type.Object({ nlist: Type.Integer(), nprobe: Type.Integer(), recall: Type.Number(), count: Type.Integer() }, { description: 'nprobe the engine chose when it trained the lists.' }),
      ),
    },
    { description: 'As stored with the collection (absent: the default).' },
  ),
  effective: Type.Object(TuningValues, { description: 'What queries and adds use now.' }),
});

export const BenchBody = Type.Object(
  {
    queries: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Stored vectors used as queries (default 200).' })),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 10.' })),
    seed: Type.Optional(Type.Integer({ description: 'Sampling seed (default 42).' })),
    ef: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 32, description: 'HNSW: efSearch values to measure.' })),
    nprobe: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 32, description: 'IVF: nprobe values to measure.' })),
  },
  closed,
);
export type BenchBody = Static<typeof BenchBody>;

const Latency = Type.Object({ p50_ms: Type.Number(), p90_ms: Type.Number(), p99_ms: Type.Number(), mean_ms: Type.Number(), qps: Type.Number() });

export const BenchResponse = Type.Object({
  collection: Type.String(),
  index: Type.String(),
  index_state: Type.String(),
  metric: Type.String(),
  dimension: Type.Integer(),
  count: Type.Integer(),
  queries: Type.Integer(),
  k: Type.Integer(),
  seed: Type.Integer(),
  exact: Type.Object({ latency: Latency }),
  runs: Type.Array(
    Type.Object({
      setting: Type.String(),
      ef_search: Type.Optional(Type.Integer()),
      nprobe: Type.Optional(Type.Integer()),
      recall: Type.Number(),
      recall_min: Type.Number(),
      latency: Latency,
    }),
  ),
  took_ms: Type.Number(),
});
