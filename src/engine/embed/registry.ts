import { PiramidError } from '../errors.js';
import type { Embedder } from './embedder.js';

/** Resolves an embedder name from a collection config (`use`, ...) to a ready embedder. */
export type EmbedderFactory = (name: string) => Promise<Embedder>;

export const BUILT_IN_EMBEDDERS = ['use'] as const;

/**
 * The default factory. Each provider module is imported only when first asked for, so commands
 * that never embed (a `--vector` query, `list`) never load a model runtime.
 */
export const defaultEmbedderFactory: EmbedderFactory = async (name) => {
  switch (name) {
    case 'use': {
      const { createUseEmbedder } = await import('./use-embedder.js');
      return createUseEmbedder();
    }
    default:
      throw new PiramidError('EMBEDDER_UNAVAILABLE', `Unknown embedder "${name}".`, {
        hint: `Known embedders: ${BUILT_IN_EMBEDDERS.join(', ')}, none.`,
      });
  }
};
