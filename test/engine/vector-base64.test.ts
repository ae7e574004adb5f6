import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queryBody } from '../../src/client/remote-backend.js';
import { parseDocument } from '../../src/engine/document.js';
import { PiramidError } from '../../src/engine/errors.js';
import { decodeVectorBase64, encodeVectorBase64 } from '../../src/engine/vector-base64.js';

const at = { file: 'in.jsonl', line: 4 };

function refusal(text: string): PiramidError {
  try {
    decodeVectorBase64(text, at);
  } catch (err) {
    assert.ok(err instanceof PiramidError);
    assert.deepEqual(err.location, { ...at, field: 'vector' });
    return err;
  }
  assert.fail(`${text} was accepted`);
}

describe('base64 vectors', () => {
  it('read what OpenAI sends: little-endian float32 bytes, standard base64 with padding', () => {
    // [1, -2.5, 0.1] as an embeddings API encodes them (the bytes written out by hand).
    const bytes = Buffer.alloc(12);
    [1, -2.5, 0.1].forEach((x, i) => bytes.writeFloatLE(x, i * 4));
    const vector = decodeVectorBase64(bytes.toString('base64'), at);
    assert.deepEqual(Array.from(vector), [1, -2.5, Math.fround(0.1)]);
    for (const dim of [1, 2, 3, 100, 1536]) {
      const values = Array.from({ length: dim }, (_, i) => Math.fround(Math.sin(i) * 10 ** ((i % 7) - 3)));
      assert.deepEqual(Array.from(decodeVectorBase64(encodeVectorBase64(values), at)), values);
    }
    // The URL-safe alphabet reads the same bytes.
    const urlSafe = bytes.toString('base64url');
    assert.deepEqual(Array.from(decodeVectorBase64(urlSafe + '='.repeat((4 - (urlSafe.length % 4)) % 4), at)), Array.from(vector));
  });

  it('refuses text that is not base64 of whole float32 values, naming where; a NaN in it fails the document', () => {
    assert.match(refusal('').message, /0 bytes/);
    assert.match(refusal('AAAA!AAA').message, /not base64/);
    assert.match(refusal('AAA').message, /not base64/); // not a multiple of 4 characters
    assert.match(refusal('AA==AAAA').message, /not base64/); // padding inside
    assert.match(refusal('AAAA AAA').message, /not base64/);
    assert.match(refusal('AAAAAAA=').message, /decodes to 5 bytes, not a whole number of float32 values/);
    // A NaN decodes; the document holding it is refused, naming the value and where it is.
    const nan = Buffer.alloc(8);
    nan.writeFloatLE(1, 0);
    nan.writeFloatLE(Number.NaN, 4);
    assert.throws(
      () => parseDocument({ id: 'n', vector: nan.toString('base64') }, 2, at),
      (err: unknown) => err instanceof PiramidError && /vector\[1\] is NaN, not a finite number/.test(err.message) && err.location?.line === 4 && err.location.field === 'vector',
    );
  });

  it('go to a server as base64 when the CLI was given base64', () => {
    const vector = Float32Array.from([0.25, -1, 3]);
    const body = queryBody({ collection: 'c', k: 3, vector });
    assert.equal(typeof body.vector, 'string');
    assert.deepEqual(Array.from(decodeVectorBase64(body.vector as string, {})), [0.25, -1, 3]);
    assert.deepEqual(queryBody({ collection: 'c', k: 3, vector: [1, 2] }).vector, [1, 2]);
  });
});
