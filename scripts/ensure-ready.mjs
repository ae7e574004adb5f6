#!/usr/bin/env node
// Makes a fresh clone runnable with no other step: installs npm dependencies when node_modules is
// missing or older than the lockfile (npm's postinstall then builds the faiss binding, cached),
// checks the native binding, and compiles TypeScript (incremental: ~1 s when nothing changed).
// Node builtins only: this runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    process.stderr.write(`piramid: "${command} ${args.join(' ')}" failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(result.status ?? 1);
  }
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || mtime(installed) < mtime(lock)) {
  process.stderr.write('piramid: installing dependencies (npm ci)...\n');
  run(npm, [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund']);
} else {
  // node_modules is current, but the binding may not be (new Node ABI, edited patch): cheap check.
  run(process.execPath, [join(root, 'scripts', 'install-native.mjs')]);
}
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
run(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')]);
