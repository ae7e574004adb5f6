/** Piramid as a library: open a data folder, use its collections. The CLI is built on this. */
export { Database, type OpenOptions } from './engine/database.js';
export { Collection, DEFAULT_K, type DeleteResult, type WriteOptions } from './engine/collection.js';
export { PiramidError, isPiramidError, ErrorCodes, type ErrorCode, type ErrorLocation } from './engine/errors.js';
export type { Embedder, EmbedderInfo } from './engine/embed/embedder.js';
export type { EmbedderFactory } from './engine/embed/registry.js';
export { ingestJsonl, type IngestSummary, type JsonlIngestOptions, type OnError } from './engine/ingest/jsonl-ingest.js';
export * from './engine/types.js';
