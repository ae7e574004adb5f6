#!/usr/bin/env node
// `npm test` (after `pretest` installed and compiled everything): lint, check that the committed
// oclif.manifest.json matches the commands, then run every test file with node's test runner.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function step(name, command, args) {
  process.stderr.write(`\n== ${name}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    process.stderr.write(`== ${name} failed\n`);
    process.exit(result.status ?? 1);
  }
}

const bin = (pkg, file) => join(root, 'node_modules', pkg, 'bin', file);

step('lint', process.execPath, [bin('eslint', 'eslint.js'), '.']);

const manifestPath = join(root, 'oclif.manifest.json');
const committed = readFileSync(manifestPath, 'utf8');
step('oclif manifest', process.execPath, [bin('oclif', 'run.js'), 'manifest']);
if (readFileSync(manifestPath, 'utf8') !== committed) {
  process.stderr.write('oclif.manifest.json did not match the commands; it has been regenerated: review and commit it.\n');
  process.exit(1);
}

// tsc never deletes what it emitted: a test renamed or removed in test/ would still run from
// dist/test. Drop compiled tests whose source is gone.
for (const file of readdirSync(join(root, 'dist', 'test'), { recursive: true })) {
  const match = /^(.*\.test)\.js$/.exec(String(file));
  if (match === null) continue;
  const source = join(root, 'test', match[1]);
  if (!existsSync(`${source}.ts`) && !existsSync(`${source}.tsx`)) {
    for (const suffix of ['.js', '.js.map', '.d.ts', '.d.ts.map']) rmSync(join(root, 'dist', 'test', `${match[1]}${suffix}`), { force: true });
    process.stderr.write(`removed dist/test/${match[1]}.js: its source is gone\n`);
  }
}

const only = process.argv.slice(2);
step('tests', process.execPath, ['--test', '--test-reporter=spec', ...(only.length > 0 ? only : [join('dist', 'test')])]);
