import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyChecker } from '../../src/server/auth.js';
import { startServer, type TestServer } from './helpers.js';

const RW = 'rw-secret-key';
const RO = 'ro-key';

describe('API keys', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ apiKeys: { readWrite: [RW], readOnly: [RO] } });
    const created = await server.call('PUT', '/v1/collections/c', { embedder: 'none', dimension: 2 }, { 'api-key': RW });
    assert.equal(created.status, 201);
  });
  after(() => server.close());

  const read = ['GET', '/v1/collections/c', undefined] as const;
  const write = ['PUT', '/v1/collections/c/documents', { documents: [{ id: 'a', vector: [1, 0] }] }] as const;
  const matrix: [string, Record<string, string>, number, number][] = [
    ['no key', {}, 401, 401],
    ['unknown key', { 'api-key': 'nope' }, 401, 401],
    ['read-only key', { 'api-key': RO }, 200, 403],
    ['read-only bearer', { authorization: `Bearer ${RO}` }, 200, 403],
    ['read-write key', { 'api-key': RW }, 200, 200],
    ['read-write bearer', { authorization: `Bearer ${RW}` }, 200, 200],
    ['a prefix of the key', { 'api-key': RW.slice(0, -1) }, 401, 401],
  ];
  for (const [name, headers, readStatus, writeStatus] of matrix) {
    it(`${name}: read ${readStatus}, write ${writeStatus}`, async () => {
      const r = await server.call(read[0], read[1], read[2], headers);
      assert.equal(r.status, readStatus, JSON.stringify(r.json));
      const w = await server.call(write[0], write[1], write[2], headers);
      assert.equal(w.status, writeStatus, JSON.stringify(w.json));
      if (readStatus === 401) assert.equal(r.json.error.code, 'UNAUTHORIZED');
      if (writeStatus === 403) assert.equal(w.json.error.code, 'FORBIDDEN');
    });
  }

  it('reads with a read-only key on POST read routes (query, get)', async () => {
    const q = await server.call('POST', '/v1/collections/c/query', { vector: [1, 0] }, { 'api-key': RO });
    assert.equal(q.status, 200);
    const g = await server.call('POST', '/v1/collections/c/documents/get', { ids: ['a'] }, { 'api-key': RO });
    assert.equal(g.status, 200);
    const d = await server.call('POST', '/v1/collections/c/documents/delete', { ids: ['a'] }, { 'api-key': RO });
    assert.equal(d.status, 403);
  });

  it('leaves /healthz open and guards everything else', async () => {
    assert.equal((await server.call('GET', '/healthz')).status, 200);
    for (const path of ['/readyz', '/openapi.json', '/metrics', '/v1/collections', '/no/such/route']) {
      assert.equal((await server.call('GET', path)).status, 401, path);
    }
    assert.equal((await server.call('GET', '/no/such/route', undefined, { 'api-key': RO })).status, 404);
  });
});

describe('KeyChecker', () => {
  it('grants by key, write over read, and refuses empty keys', () => {
    const checker = new KeyChecker({ readWrite: ['same', 'w'], readOnly: ['same', 'r'] });
    assert.equal(checker.grantOf('w'), 'write');
    assert.equal(checker.grantOf('r'), 'read');
    assert.equal(checker.grantOf('same'), 'write');
    assert.equal(checker.grantOf(''), undefined);
    assert.equal(new KeyChecker().enabled, false);
    assert.throws(() => new KeyChecker({ readWrite: [''] }), TypeError);
  });
});
