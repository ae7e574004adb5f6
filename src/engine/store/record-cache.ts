/**
 * Recently read records, by label, as their stored JSON: a search resolves ~k labels per query and
 * a LevelDB get costs ~2 µs each (index block, data block, copy), which is most of what Piramid adds
 * to a faiss search. A label's record never changes while the label lives (an update takes a new
 * label), so an entry is only ever wrong after a delete: the store evicts deleted labels once
 * their batch is committed, and maintenance that renumbers or rewrites records clears it all.
 *
 * Entries are strings, parsed on every read, so no caller can change a cached record by mutating
 * what it was given. Least recently used entries go first once `maxBytes` is exceeded.
 */
export class RecordCache {
  private readonly entries = new Map<number, string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new TypeError(`invalid record cache size ${maxBytes}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(label: number): string | undefined {
    const json = this.entries.get(label);
    if (json !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(label);
      this.entries.set(label, json);
    }
    return json;
  }

  set(label: number, json: string): void {
    const cost = entryBytes(json);
    if (cost > this.maxBytes) return;
    this.evict(label);
    this.entries.set(label, json);
    this.bytes += cost;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entryBytes(value);
    }
  }

  evict(label: number): void {
    const json = this.entries.get(label);
    if (json === undefined) return;
    this.entries.delete(label);
    this.bytes -= entryBytes(json);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** UTF-16 string bytes plus a Map entry's overhead, roughly. */
function entryBytes(json: string): number {
  return 2 * json.length + 64;
}
