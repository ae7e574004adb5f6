import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('serve: TLS and request logs', () => {
  it('serves HTTPS with --tls-cert/--tls-key, verifiable against the certificate', async () => {
    const dir = await tempDir();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const server = await startServe(join(dir, 'data'), ['--tls-cert', cert, '--tls-key', key, '--log-level', 'silent']);
    try {
      const { url } = server;
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = await readFile(cert);
      const body = await new Promise<string>((resolve, reject) => {
        request(`${url}/healthz`, { ca }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        })
          .on('error', reject)
          .end();
      });
      assert.match(body, /^200 /);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('logs each request as a JSON line on stdout with its id, returned as x-request-id', async () => {
    const dir = await tempDir();
    const server = await startServe(join(dir, 'data'));
    let requestId: string | null = null;
    try {
      const { url } = server;
      const response = await fetch(`${url}/v1/collections`, { headers: { 'x-request-id': 'trace-me-42' } });
      assert.equal(response.status, 200);
      requestId = response.headers.get('x-request-id');
      const fresh = await fetch(`${url}/v1/collections`);
      assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.equal(requestId, 'trace-me-42');
    const lines = server
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reqId?: string; msg?: string; level?: number });
    const traced = lines.filter((line) => line.reqId === 'trace-me-42');
    assert.ok(traced.some((line) => line.msg === 'incoming request'), JSON.stringify(lines.slice(0, 4)));
    assert.ok(traced.some((line) => line.msg === 'request completed'));
  });
});
