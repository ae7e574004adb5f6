/**
 * Labels are faiss' sequential positions. Stored as fixed-width hex so that LevelDB's byte order is
 * label order: replay after a crash reads "every label from N on" as one range.
 */
const LABEL_WIDTH = 12; // 2^48 labels: more than any single index will hold

export function encodeLabel(label: number): string {
  if (!Number.isSafeInteger(label) || label < 0) throw new TypeError(`invalid label ${label}`);
  return label.toString(16).padStart(LABEL_WIDTH, '0');
}

export function decodeLabel(key: string): number {
  const label = Number.parseInt(key, 16);
  if (!Number.isSafeInteger(label)) throw new TypeError(`invalid label key ${key}`);
  return label;
}
