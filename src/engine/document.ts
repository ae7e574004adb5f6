import { PiramidError, type ErrorLocation } from './errors.js';
import type { Metadata } from './types.js';
import { toFloat32Vector } from './vectors.js';

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
 * came from; `prefix` names it within a larger value (`documents[3]`), so errors point at the field.
 */
export function parseDocument(value: unknown, dimension: number | undefined, where: ErrorLocation = {}, prefix = ''): ValidDocument {
  const at = (field: string): ErrorLocation => ({ ...where, field: prefix === '' ? field : `${prefix}.${field}` });
  const whole: ErrorLocation = prefix === '' ? where : { ...where, field: prefix };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PiramidError('INVALID_INPUT', 'a document must be a JSON object.', { location: whole });
  }
  const doc = value as Record<string, unknown>;
  const unknownField = Object.keys(doc).find((key) => !KNOWN_FIELDS.has(key));
  if (unknownField !== undefined) {
    throw new PiramidError('INVALID_INPUT', `unknown field "${unknownField}".`, {
      location: at(unknownField),
      hint: 'A document has "id", "text", "vector" and "metadata"; put other fields inside "metadata".',
    });
  }
  const { id, text, vector, metadata } = doc;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)) {
    throw new PiramidError('INVALID_INPUT', `id must be a non-empty string of at most ${MAX_ID_LENGTH} characters; got ${describe(id)}.`, {
      location: at('id'),
    });
  }
  if (typeof id === 'string' && CHUNK_SUFFIX.test(id)) {
    throw new PiramidError('INVALID_INPUT', `id "${id}" ends like a chunk id ("#" and digits), which is reserved for chunks.`, {
      location: at('id'),
      hint: 'Chunks of a document "x" are stored as "x#0", "x#1"...; choose an id without that ending.',
    });
  }
  if (text !== undefined && typeof text !== 'string') {
    throw new PiramidError('INVALID_INPUT', `text must be a string; got ${describe(text)}.`, { location: at('text') });
  }
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new PiramidError('INVALID_INPUT', `metadata must be a JSON object; got ${describe(metadata)}.`, { location: at('metadata') });
  }
  if (vector === undefined && (text === undefined || text.trim().length === 0)) {
    throw new PiramidError('INVALID_INPUT', 'a document needs a non-empty "text" or a "vector".', {
      location: whole,
      hint: 'Give each document a text to embed, or its own vector.',
    });
  }
  let parsedVector: Float32Array | undefined;
  if (vector !== undefined) {
    const length = Array.isArray(vector) ? vector.length : undefined;
    parsedVector = toFloat32Vector(vector, dimension ?? length ?? 0, at('vector'));
  }
  return {
    id: id as string | undefined,
    text: text as string | undefined,
    vector: parsedVector,
    metadata: metadata as Metadata | undefined,
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  return `a ${typeof value}`;
}
