#!/usr/bin/env node
// `npm run demo`: ingest the fixture corpus into a fresh data folder and ask it a question, with the
// real CLI, printing each command as a user would type it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.PIRAMID_DEMO_DIR ?? mkdtempSync(join(tmpdir(), 'piramid-demo-'));
const question = process.argv[2] ?? 'the whale hunt and the captain who lost his leg';

function piramid(...args) {
  console.log(`\n$ piramid ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const result = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), ...args, '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

console.log(`Demo data folder: ${dataDir}`);
piramid('ingest', 'fixtures/docs.jsonl', '-c', 'docs');
piramid('info', 'docs');
piramid('query', question, '-c', 'docs', '-k', '5');
if (process.env.PIRAMID_DEMO_DIR === undefined) rmSync(dataDir, { recursive: true, force: true });
