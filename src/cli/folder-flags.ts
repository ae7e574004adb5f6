import { Flags } from '@oclif/core';
import { DEFAULT_COLLECTION, DEFAULT_DATA_DIR } from './folder-defaults.js';

export { DEFAULT_COLLECTION, DEFAULT_DATA_DIR };

/** The `-d/--data-dir` flag every command has: the data folder. */
export const dataDirFlag = Flags.string({
  char: 'd',
  description: 'Data folder of the database.',
  env: 'PIRAMID_DATA_DIR',
  default: DEFAULT_DATA_DIR,
  helpGroup: 'GLOBAL',
});

/** The `-c/--collection` flag shared by commands that work on one collection. */
export const collectionFlag = Flags.string({
  char: 'c',
  description: 'Collection to use.',
  env: 'PIRAMID_COLLECTION',
  default: DEFAULT_COLLECTION,
});
