import { join } from 'node:path';

/** Where a data folder keeps its faiss index files. */
export const INDEX_FOLDER = 'indexes';

/** The index checkpoint of collection `name` in data folder `folder`. */
export function indexFilePath(folder: string, name: string): string {
  return join(folder, INDEX_FOLDER, `${name}.pidx`);
}
