import { PiramidError, type ErrorLocation } from './errors.js';
import type { Metadata } from './types.js';
import { decodeVectorBase64 } from './vector-base64.js';
import { finiteFloat32Copy, finiteNumbersCopy, toFloat32Vector } from './vectors.js';

/** A document that passed validation: vector checked against the collection's dimension. */
export interface ValidDocument {
  id: string | undefined;
  text: string | undefined;
  vector: Float32Array | undefined;
  metadata: Metadata | undefined;
}

const MAX_ID_LENGTH = 512;
const CHUNK_SUFFIX = /#\d+$/;
const KNOWN_FIELDS = new Set(['id', 'text', 'vector', 'metadata']);

/**
 * Validates one document from any source (API call, JSONL line, HTTP body). `where` says where it
 * came from; `prefix` names it within a larger value (`documents[3]`; a function when building the
 * name for every document would cost more than checking it), so errors point at the field.
 * Locations are built only for errors: this runs once per document of every bulk load.
 */
export function parseDocument(value: unknown, dimension: number | undefined, where: ErrorLocation = {}, prefix: string | (() => string) = ''): ValidDocument {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PiramidError('INVALID_INPUT', 'a document must be a JSON object.', { location: documentLocation(where, prefix) });
  }
  const doc = value as Record<string, unknown>;
  for (const key in doc) {
    if (!KNOWN_FIELDS.has(key) && Object.hasOwn(doc, key)) {
      throw new PiramidError('INVALID_INPUT', `unknown field "${key}".`, {
        location: fieldLocation(where, prefix, key),
        hint: 'A document has "id", "text", "vector" and "metadata"; put other fields inside "metadata".',
      });
    }
  }
  const { id, text, vector, metadata } = doc;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)) {
    throw new PiramidError('INVALID_INPUT', `id must be a non-empty string of at most ${MAX_ID_LENGTH} characters; got ${describe(id)}.`, {
      location: fieldLocation(where, prefix, 'id'),
    });
  }
  if (typeof id === 'string' && id.includes('#') && CHUNK_SUFFIX.test(id)) {
    throw new PiramidError('INVALID_INPUT', `id "${id}" ends like a chunk id ("#" and digits), which is reserved for chunks.`, {
      location: fieldLocation(where, prefix, 'id'),
      hint: 'Chunks of a document "x" are stored as "x#0", "x#1"...; choose an id without that ending.',
    });
  }
  if (text !== undefined && typeof text !== 'string') {
    throw new PiramidError('INVALID_INPUT', `text must be a string; got ${describe(text)}.`, { location: fieldLocation(where, prefix, 'text') });
  }
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new PiramidError('INVALID_INPUT', `metadata must be a JSON object; got ${describe(metadata)}.`, { location: fieldLocation(where, prefix, 'metadata') });
  }
  if (vector === undefined && (text === undefined || text.trim().length === 0)) {
    throw new PiramidError('INVALID_INPUT', 'a document needs a non-empty "text" or a "vector".', {
      location: documentLocation(where, prefix),
      hint: 'Give each document a text to embed, or its own vector.',
    });
  }
  let parsedVector: Float32Array | undefined;
  if (vector !== undefined) {
    const given = typeof vector === 'string' ? decodeVectorBase64(vector, () => fieldLocation(where, prefix, 'vector')) : vector;
    const length = Array.isArray(given) || given instanceof Float32Array ? given.length : undefined;
    const expected = dimension ?? length ?? 0;
    parsedVector = finiteFloat32Copy(given, expected) ?? finiteNumbersCopy(given, expected) ?? toFloat32Vector(given, expected, fieldLocation(where, prefix, 'vector'));
  }
  return {
    id: id as string | undefined,
    text: text as string | undefined,
    vector: parsedVector,
    metadata: metadata as Metadata | undefined,
  };
}

function prefixText(prefix: string | (() => string)): string {
  return typeof prefix === 'string' ? prefix : prefix();
}

function documentLocation(where: ErrorLocation, prefix: string | (() => string)): ErrorLocation {
  const name = prefixText(prefix);
  return name === '' ? where : { ...where, field: name };
}

function fieldLocation(where: ErrorLocation, prefix: string | (() => string), field: string): ErrorLocation {
  const name = prefixText(prefix);
  return { ...where, field: name === '' ? field : `${name}.${field}` };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  return `a ${typeof value}`;
}
