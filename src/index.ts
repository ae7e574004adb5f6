/** Piramid as a library: open a data folder, use its collections. The CLI is built on this. */
export { Database, type OpenOptions, type VerifyReport, type CollectionReport } from './engine/database.js';
export { restoreBackup, type RestoreOptions, type RestoreResult } from './engine/ops/restore-backup.js';
export { inspectArchive } from './engine/ops/restore.js';
export type { BackupOptions, BackupProgress, BackupSummary } from './engine/ops/backup.js';
export type { BackupManifest } from './engine/ops/archive-format.js';
export type { CompactResult } from './engine/ops/compact.js';
export type { VerifyProblem, ProblemCode } from './engine/ops/verify.js';
export { Collection, DEFAULT_K, type DeleteResult, type UpsertOptions, type WriteOptions } from './engine/collection.js';
export { PiramidError, isPiramidError, ErrorCodes, type ErrorCode, type ErrorLocation } from './engine/errors.js';
export type { Embedder, EmbedderInfo } from './engine/embed/embedder.js';
export type { EmbedderFactory } from './engine/embed/registry.js';
export { ingest, type IngestOptions, type IngestSummary, type OnError } from './engine/ingest/ingest.js';
export { openSource, jsonlSource, jsonArraySource, folderSource, type Source } from './engine/ingest/sources.js';
export { DEFAULT_CHUNKING, type ChunkingOptions } from './engine/document-plan.js';
export { createEmbedderFactory, parseEmbedderSpec, type EmbedderConnection, type EmbedderRequest } from './engine/embed/registry.js';
export * from './engine/types.js';
