import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PiramidClient } from '../../src/client/http-client.js';
import { RemoteBackend } from '../../src/client/remote-backend.js';
import { startServer, type TestServer } from './helpers.js';

describe('POST /v1/collections/:name/documents/scroll (browse reads through a server)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    await server.call('PUT', '/v1/collections/s', { embedder: 'none', dimension: 2 });
    const documents = Array.from({ length: 25 }, (_, i) => ({ id: `r${String(i).padStart(2, '0')}`, text: `record ${i}`, vector: [1, i], metadata: { n: i, even: i % 2 === 0 } }));
    await server.call('PUT', '/v1/collections/s/documents', { documents });
  });
  after(() => server.close());

  it('pages in id order with from/next, skips with offset, filters with where or filter', async () => {
    const { call } = server;
    const first = await call('POST', '/v1/collections/s/documents/scroll', { limit: 10 });
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.documents.map((d: { id: string }) => d.id), Array.from({ length: 10 }, (_, i) => `r${String(i).padStart(2, '0')}`));
    assert.equal(first.json.next, 'r10');
    assert.deepEqual(first.json.documents[3], { id: 'r03', text: 'record 3', metadata: { n: 3, even: false } });

    const second = await call('POST', '/v1/collections/s/documents/scroll', { from: first.json.next, limit: 10 });
    assert.equal(second.json.documents[0].id, 'r10');
    const last = await call('POST', '/v1/collections/s/documents/scroll', { offset: 20, limit: 10, with_vector: true });
    assert.deepEqual(last.json.documents.map((d: { id: string }) => d.id), ['r20', 'r21', 'r22', 'r23', 'r24']);
    assert.equal(last.json.next, undefined);
    assert.deepEqual(last.json.documents[0].vector, [1, 20]);
    const fromAndOffset = await call('POST', '/v1/collections/s/documents/scroll', { from: 'r05', offset: 3, limit: 2 });
    assert.deepEqual(fromAndOffset.json.documents.map((d: { id: string }) => d.id), ['r08', 'r09']);
    const beyond = await call('POST', '/v1/collections/s/documents/scroll', { offset: 25, limit: 10 });
    assert.deepEqual(beyond.json, { documents: [] });

    const even = await call('POST', '/v1/collections/s/documents/scroll', { where: 'even = true', offset: 2, limit: 3 });
    assert.deepEqual(even.json.documents.map((d: { id: string }) => d.id), ['r04', 'r06', 'r08']);
    const json = await call('POST', '/v1/collections/s/documents/scroll', { filter: { must: [{ key: 'n', range: { gte: 23 } }] }, limit: 10 });
    assert.deepEqual(json.json.documents.map((d: { id: string }) => d.id), ['r23', 'r24']);
  });

  it('refuses bad bodies with the field at fault, and unknown collections with 404', async () => {
    const { call } = server;
    const badWhere = await call('POST', '/v1/collections/s/documents/scroll', { where: 'n >' });
    assert.equal(badWhere.status, 400);
    assert.equal(badWhere.json.error.location.field, 'where');
    assert.equal(typeof badWhere.json.error.location.column, 'number');
    const both = await call('POST', '/v1/collections/s/documents/scroll', { where: 'n > 1', filter: {} });
    assert.equal(both.status, 400);
    const limit = await call('POST', '/v1/collections/s/documents/scroll', { limit: 0 });
    assert.equal(limit.status, 400);
    assert.equal(limit.json.error.location.field, 'limit');
    const missing = await call('POST', '/v1/collections/missing/documents/scroll', {});
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'COLLECTION_NOT_FOUND');
  });

  it('RemoteBackend.scrollRecords and getRecords answer as the engine does', async () => {
    const backend = new RemoteBackend(new PiramidClient(server.url), { kind: 'explicit' });
    const page = await backend.scrollRecords({ collection: 's', offset: 23, limit: 5, withVector: true });
    assert.deepEqual(page, {
      records: [
        { id: 'r23', text: 'record 23', metadata: { n: 23, even: false }, vector: [1, 23] },
        { id: 'r24', text: 'record 24', metadata: { n: 24, even: true }, vector: [1, 24] },
      ],
    });
    const local = await (await server.db.collection('s')).get(['r02', 'nope', 'r01'], { withVector: true });
    assert.deepEqual(await backend.getRecords('s', ['r02', 'nope', 'r01'], { withVector: true }), local);
    assert.deepEqual(await backend.getRecords('s', []), []);
  });
});
