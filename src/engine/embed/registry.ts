import { PiramidError } from '../errors.js';
import type { Embedder } from './embedder.js';

/** What a collection asks for: a provider, its model, and (for an existing collection) the dimension. */
export interface EmbedderRequest {
  provider: string;
  model?: string;
  /** Known for existing collections: HTTP providers then skip their dimension probe. */
  dimension?: number;
}

/** Resolves a request to a ready embedder. Tests inject their own; the CLI uses createEmbedderFactory. */
export type EmbedderFactory = (request: EmbedderRequest) => Promise<Embedder>;

/**
 * Where HTTP providers are reached. Never stored in the data folder: the CLI fills it from flags
 * or the environment on every run.
 */
export interface EmbedderConnection {
  url?: string;
  apiKey?: string;
  timeoutMs?: number;
  concurrency?: number;
  batchSize?: number;
}

export const EMBEDDER_PROVIDERS = ['use', 'openai', 'ollama', 'none'] as const;

/**
 * `use`, `none`, `openai:<model>`, `ollama:<model>` → provider and model; null for `none`.
 * The model part may itself contain colons (`ollama:nomic-embed-text:v1.5`).
 */
export function parseEmbedderSpec(spec: string): EmbedderRequest | null {
  const colon = spec.indexOf(':');
  const provider = colon === -1 ? spec : spec.slice(0, colon);
  const model = colon === -1 ? undefined : spec.slice(colon + 1);
  if (provider === 'none' && model === undefined) return null;
  if (provider === 'use' && model === undefined) return { provider };
  if ((provider === 'openai' || provider === 'ollama') && model !== undefined && model.length > 0) return { provider, model };
  throw new PiramidError('INVALID_ARGUMENT', `Unknown embedder "${spec}".`, {
    hint: 'Use "use" (built-in, offline), "openai:<model>" (any OpenAI-compatible server), "ollama:<model>", or "none".',
  });
}

/**
 * The production factory. Each provider module is imported only when first asked for, so commands
 * that never embed (a `--vector` query, `list`) never load a model runtime or an HTTP client.
 */
export function createEmbedderFactory(connection: EmbedderConnection = {}): EmbedderFactory {
  const http = {
    ...(connection.url === undefined ? {} : { baseUrl: connection.url }),
    ...(connection.apiKey === undefined ? {} : { apiKey: connection.apiKey }),
    ...(connection.timeoutMs === undefined ? {} : { timeoutMs: connection.timeoutMs }),
    ...(connection.concurrency === undefined ? {} : { concurrency: connection.concurrency }),
    ...(connection.batchSize === undefined ? {} : { batchSize: connection.batchSize }),
  };
  return async (request) => {
    const dimension = request.dimension === undefined ? {} : { dimension: request.dimension };
    switch (request.provider) {
      case 'use': {
        const { createUseEmbedder } = await import('./use-embedder.js');
        return createUseEmbedder();
      }
      case 'openai': {
        const { createOpenAIEmbedder } = await import('./openai-embedder.js');
        return createOpenAIEmbedder({ model: requireModel(request), ...http, ...dimension });
      }
      case 'ollama': {
        const { createOllamaEmbedder } = await import('./ollama-embedder.js');
        return createOllamaEmbedder({ model: requireModel(request), ...http, ...dimension });
      }
      default:
        throw new PiramidError('EMBEDDER_UNAVAILABLE', `Unknown embedder provider "${request.provider}".`, {
          hint: `Known providers: ${EMBEDDER_PROVIDERS.join(', ')}.`,
        });
    }
  };
}

function requireModel(request: EmbedderRequest): string {
  if (request.model === undefined) {
    throw new PiramidError('INVALID_ARGUMENT', `The ${request.provider} embedder needs a model: ${request.provider}:<model>.`);
  }
  return request.model;
}
