import type { AbstractSnapshot, AbstractSublevel } from 'abstract-level';
import { PiramidError } from './errors.js';
import type { RootLevel } from './store/collection-store.js';
import type { CollectionConfig } from './types.js';

/** Bumped when the on-disk layout changes incompatibly; older engines refuse newer folders. */
export const FORMAT_VERSION = 1;

const FORMAT_KEY = 'format';
const COLLECTION_PREFIX = 'collection:';

/** Collection names become LevelDB prefixes and file names: keep them boring. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateCollectionName(name: string): void {
  if (!NAME_PATTERN.test(name) || name.includes('..')) {
    throw new PiramidError('INVALID_NAME', `Invalid collection name "${name}".`, {
      hint: 'Use 1-64 letters, digits, "_", "-" or "." (no "..", starting with a letter or digit).',
    });
  }
}

type CatalogValue = CollectionConfig | number;

/** The list of collections and their configs, plus the folder's format version. */
export class Catalog {
  private readonly sub: AbstractSublevel<RootLevel, string | Buffer | Uint8Array, string, CatalogValue>;

  constructor(root: RootLevel) {
    this.sub = root.sublevel<string, CatalogValue>('catalog', { valueEncoding: 'json' });
  }

  /** Stamps a new folder with the current format, or refuses one written by a newer engine. */
  async checkFormat(location: string): Promise<void> {
    const stored = await this.sub.get(FORMAT_KEY);
    if (stored === undefined) {
      await this.sub.put(FORMAT_KEY, FORMAT_VERSION);
      return;
    }
    if (typeof stored !== 'number' || stored > FORMAT_VERSION) {
      throw new PiramidError(
        'FORMAT_UNSUPPORTED',
        `Data folder ${location} has format version ${String(stored)}; this piramid reads up to ${FORMAT_VERSION}.`,
        { hint: 'Upgrade piramid, or restore a backup made with this version.' },
      );
    }
  }

  /** Every collection's config, by name; as of `snapshot` when given (backups). */
  async list(snapshot?: AbstractSnapshot): Promise<CollectionConfig[]> {
    const configs: CollectionConfig[] = [];
    const range = { gte: COLLECTION_PREFIX, lt: `${COLLECTION_PREFIX}\uffff` };
    for await (const [key, value] of this.sub.iterator(snapshot === undefined ? range : { ...range, snapshot })) {
      if (key.startsWith(COLLECTION_PREFIX) && typeof value === 'object') configs.push(value);
    }
    return configs.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<CollectionConfig | undefined> {
    const value = await this.sub.get(COLLECTION_PREFIX + name);
    return typeof value === 'object' ? value : undefined;
  }

  async put(config: CollectionConfig): Promise<void> {
    // Catalog changes are rare and everything hangs off them: always fsync'd.
    await this.sub.batch().put(COLLECTION_PREFIX + config.name, config).write({ sync: true });
  }

  /** Puts a config into someone else's atomic batch (raw root keys), e.g. compaction's. */
  stage(batch: { put(key: string, value: string): unknown }, config: CollectionConfig): void {
    batch.put(this.sub.prefix + COLLECTION_PREFIX + config.name, JSON.stringify(config));
  }

  async delete(name: string): Promise<void> {
    await this.sub.batch().del(COLLECTION_PREFIX + name).write({ sync: true });
  }
}
