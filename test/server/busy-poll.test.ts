import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { busyPollAfterResponses } from '../../src/server/busy-poll.js';
import { runCli } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';

/** CPU milliseconds this process spends while `work` runs. */
async function cpuMsDuring(work: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** GET through node:http (fetch would load undici on first use, CPU time these tests would count). */
function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('busy polling after responses (serve --busy-poll)', () => {
  it('keeps the loop polling for the window after the last response, then sleeps again', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const url = await listening(server);
    let stop = (): void => undefined;
    try {
      assert.equal(await getText(url), 'ok');
      const plain = await cpuMsDuring(() => sleep(150));
      assert.ok(plain <= 30, `without busy polling: ${plain.toFixed(1)} ms of CPU in 150 ms`);
      stop = busyPollAfterResponses(server, 300_000); // 300 ms
      assert.equal(await getText(url), 'ok');
      const spinning = await cpuMsDuring(() => sleep(150));
      assert.ok(spinning >= 45, `polling: ${spinning.toFixed(1)} ms of CPU in 150 ms`);
      await sleep(250); // past the window
      const idle = await cpuMsDuring(() => sleep(150));
      assert.ok(idle <= 30, `asleep after the window: ${idle.toFixed(1)} ms of CPU in 150 ms`);
    } finally {
      stop();
      server.close();
    }
  });

  it('does not poll while a request is in flight, nor once stopped', async () => {
    let release: () => void = () => undefined;
    const server = createServer((req, res) => {
      if (req.url === '/slow') release = () => res.end('late');
      else res.end('ok');
    });
    const url = await listening(server);
    const stop = busyPollAfterResponses(server, 300_000);
    try {
      assert.equal(await getText(url), 'ok'); // polling from here, for 300 ms
      const answer = getText(`${url}slow`);
      await sleep(50); // the slow request has arrived and waits
      const waiting = await cpuMsDuring(() => sleep(150));
      assert.ok(waiting <= 30, `in flight: ${waiting.toFixed(1)} ms of CPU in 150 ms`);
      release();
      assert.equal(await answer, 'late');
      stop();
      await sleep(10); // a poll already queued sees the stop
      const stopped = await cpuMsDuring(() => sleep(150));
      assert.ok(stopped <= 30, `stopped: ${stopped.toFixed(1)} ms of CPU in 150 ms`);
    } finally {
      release(); // a failed assertion must not leave the request hanging
      stop();
      server.close();
    }
  });

  it('piramid serve --busy-poll answers queries and polls after them; a bad value exits 2', async (t) => {
    const ticksOf = (pid: number): number => {
      // utime + stime, fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return Number(fields[11]) + Number(fields[12]);
    };
    const dir = await tempDir();
    const bad = await runCli(['serve', '--port', '0', '--busy-poll', '-5'], { dataDir: dir });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /busy-poll/);
    if (process.platform !== 'linux') {
      t.skip('CPU time read from /proc');
      return;
    }
    const server = await startServe(dir, ['--busy-poll', '400000']); // 400 ms
    try {
      const json = { 'content-type': 'application/json' };
      await fetch(`${server.url}/v1/collections/c`, { method: 'PUT', headers: json, body: JSON.stringify({ embedder: 'none', dimension: 2 }) });
      await fetch(`${server.url}/v1/collections/c/documents`, { method: 'PUT', headers: json, body: JSON.stringify({ documents: [{ id: 'a', vector: [1, 0] }] }) });
      const query = await fetch(`${server.url}/v1/collections/c/query`, { method: 'POST', headers: json, body: JSON.stringify({ vector: [1, 0], k: 1 }) });
      assert.equal(((await query.json()) as { hits: { id: string }[] }).hits[0]?.id, 'a');
      const pid = server.child.pid as number;
      const start = ticksOf(pid);
      await sleep(250);
      const polling = ticksOf(pid) - start; // clock ticks, 10 ms each
      assert.ok(polling >= 8, `the server polled after answering: ${polling} ticks in 250 ms`);
      await sleep(400);
      const idleStart = ticksOf(pid);
      await sleep(250);
      const idle = ticksOf(pid) - idleStart;
      assert.ok(idle <= 5, `then slept: ${idle} ticks in 250 ms`);
    } finally {
      await server.stop();
    }
  });
});
