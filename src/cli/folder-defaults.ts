/** Where commands work when no flag or environment variable says otherwise (no imports: bin/run.js loads this first). */
export const DEFAULT_DATA_DIR = '.piramid';
export const DEFAULT_COLLECTION = 'default';
