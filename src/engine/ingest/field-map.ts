import { PiramidError, type ErrorLocation } from '../errors.js';

/** Which fields of the input hold the text and the id, for JSONL of other shapes. */
export interface FieldMap {
  text?: string;
  id?: string;
}

/**
 * Reshapes an input object into a document: `text` and `id` from the mapped fields (a numeric id
 * becomes a string), `vector` and `metadata` as they are, and every other field into metadata.
 * Without a map, objects pass through unchanged and unknown fields stay an error (a typo in
 * "vector" should not silently become metadata).
 */
export function applyFieldMap(value: unknown, map: FieldMap | undefined, location: ErrorLocation): unknown {
  if (map === undefined || (map.text === undefined && map.id === undefined)) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  const textField = map.text ?? 'text';
  const idField = map.id ?? 'id';
  const doc: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(source)) {
    if (key === textField) doc.text = field;
    else if (key === idField) doc.id = typeof field === 'number' ? String(field) : field;
    else if (key === 'vector') doc.vector = field;
    else if (key === 'metadata') {
      if (typeof field !== 'object' || field === null || Array.isArray(field)) {
        throw new PiramidError('INVALID_INPUT', 'metadata must be a JSON object.', { location: { ...location, field: 'metadata' } });
      }
      Object.assign(metadata, field);
    } else metadata[key] = field;
  }
  if (Object.keys(metadata).length > 0) doc.metadata = metadata;
  return doc;
}
