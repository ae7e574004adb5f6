import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Database } from '../../src/engine/database.js';
import { readServeFile } from '../../src/server/serve-file.js';
import { runCli } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('piramid serve (the real CLI)', () => {
  it('listens, serves, writes serve.json, and on SIGTERM finishes, removes it and exits 0', async () => {
    const dir = await tempDir();
    const server = await startServe(dir);
    const { url, child } = server;
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const serveFile = await readServeFile(dir);
      assert.deepEqual(serveFile && { url: serveFile.url, pid: serveFile.pid }, { url, pid: child.pid });

      const json = { 'content-type': 'application/json' };
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      const create = await fetch(`${url}/v1/collections/kept`, { method: 'PUT', headers: json, body: JSON.stringify({ embedder: 'none', dimension: 3, index: 'hnsw' }) });
      assert.equal(create.status, 201);
      const upsert = await fetch(`${url}/v1/collections/kept/documents`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({ documents: [{ id: 'x', vector: [1, 2, 3], metadata: { k: 'v' } }, { id: 'y', vector: [3, 2, 1] }] }),
      });
      assert.equal(upsert.status, 200);
      const query = await fetch(`${url}/v1/collections/kept/query`, { method: 'POST', headers: json, body: JSON.stringify({ vector: [1, 2, 3], k: 1 }) });
      assert.equal(((await query.json()) as { hits: { id: string }[] }).hits[0]?.id, 'x');
    } finally {
      await server.stop();
    }
    assert.equal(await server.stop(), 0, server.stderr());
    assert.equal(existsSync(join(dir, 'serve.json')), false);

    const db = await Database.open(dir, { createIfMissing: false });
    try {
      const kept = await db.collection('kept');
      assert.equal(await kept.count(), 2);
      assert.deepEqual((await kept.get(['x']))[0]?.metadata, { k: 'v' });
      assert.equal((await kept.search([3, 2, 1], { k: 1 })).hits[0]?.id, 'y');
    } finally {
      await db.close();
    }
  });

  it('refuses a non-loopback host without an API key (exit 2), unless --insecure', async () => {
    const dir = await tempDir();
    const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--json'], { dataDir: dir, env: { PIRAMID_API_KEY: '' } });
    assert.equal(result.code, 2, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
    assert.equal(existsSync(join(dir, 'serve.json')), false);
  });
});
