import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT, fixture, runCli, runNode, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/** `piramid <args>` through oclif's own execute(), loading the command from dist/src as every other command does. */
function runThroughOclif(args: string[], dataDir: string): Promise<CliResult> {
  const script = `import { execute } from '@oclif/core'; await execute({ dir: ${JSON.stringify(join(PROJECT_ROOT, 'bin', 'run.js'))}, args: ${JSON.stringify([...args, '--data-dir', dataDir])} });`;
  return runNode(['--input-type=module', '-e', script]);
}

/** A query's --json answer without its timing. */
function withoutTiming(stdout: string): unknown {
  const answer = JSON.parse(stdout) as { took_ms?: number };
  delete answer.took_ms;
  return answer;
}

describe('piramid query from the one-file bundle (dist/query.mjs)', () => {
  it('is built, and answers exactly as the command run by oclif from dist/src', async () => {
    assert.ok(existsSync(join(PROJECT_ROOT, 'dist', 'query.mjs')), 'npm run build (and pretest) bundles the query command');
    const dataDir = await tempDir();
    assert.equal((await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec'], { dataDir })).code, 0);

    const args = ['query', '--vector', '[0.9,0.1,0.05,0.02]', '-c', 'vec', '-k', '3', '-w', 'category = "fruit"', '--json'];
    const bundled = await runCli(args, { dataDir });
    const oclif = await runThroughOclif(args, dataDir);
    assert.equal(bundled.code, 0, bundled.stderr);
    assert.equal(oclif.code, 0, oclif.stderr);
    assert.deepEqual(withoutTiming(bundled.stdout), withoutTiming(oclif.stdout));
    assert.equal((withoutTiming(bundled.stdout) as { hits: unknown[] }).hits.length, 3);

    // Errors: the same message and exit code (3: collection not found) either way.
    const missing = ['query', '--vector', '[1,0,0,0]', '-c', 'nope', '--json'];
    const bundledError = await runCli(missing, { dataDir });
    const oclifError = await runThroughOclif(missing, dataDir);
    assert.equal(bundledError.code, 3, bundledError.stderr);
    assert.equal(oclifError.code, 3, oclifError.stderr);
    assert.equal(bundledError.stdout, oclifError.stdout);
    assert.match(bundledError.stdout, /COLLECTION_NOT_FOUND/);

    // A bad flag is oclif's parse error, exit 2, in both.
    const badFlag = ['query', '--vector', '[1,0,0,0]', '-c', 'vec', '-k', 'many'];
    assert.equal((await runCli(badFlag, { dataDir })).code, 2);
    assert.equal((await runThroughOclif(badFlag, dataDir)).code, 2);
  });

  it('leaves --help to oclif', async () => {
    const help = await runCli(['query', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /USAGE/);
    assert.match(help.stdout, /--nprobe/);
  });
});
