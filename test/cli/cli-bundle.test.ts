import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUNDLED_COMMANDS, bundledCommandOf } from '../../src/cli/bundled-main.js';
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

describe('commands run from the bundle (dist/cli)', () => {
  it('bundles every command of the oclif manifest, and finds commands in topics', () => {
    const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };
    assert.deepEqual(Object.keys(BUNDLED_COMMANDS).sort(), Object.keys(manifest.commands).sort(), 'a new command needs its line in BUNDLED_COMMANDS');
    assert.deepEqual(bundledCommandOf(['cache', 'list', '--json']), { id: 'cache:list', args: ['--json'] });
    assert.deepEqual(bundledCommandOf(['info', 'list']), { id: 'info', args: ['list'] });
    assert.equal(bundledCommandOf(['--version']), undefined);
    assert.equal(bundledCommandOf(['nonsense']), undefined);
    assert.equal(bundledCommandOf([]), undefined);
  });

  it('answers other commands, topics and their errors exactly as oclif run from dist/src does', async () => {
    assert.ok(existsSync(join(PROJECT_ROOT, 'dist', 'cli', 'main.mjs')), 'npm run build (and pretest) bundles the commands');
    const dataDir = await tempDir();
    assert.equal((await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec'], { dataDir })).code, 0);
    for (const args of [
      ['list', '--json'],
      ['info', 'vec', '--json'],
      ['cache', 'list', '--json'],
      ['info', 'nope', '--json'], // exit 3, COLLECTION_NOT_FOUND
      ['list', '--no-such-flag'], // oclif's parse error, exit 2
    ]) {
      const bundled = await runCli(args, { dataDir });
      const oclif = await runThroughOclif(args, dataDir);
      assert.equal(bundled.code, oclif.code, `${args.join(' ')}: ${bundled.stderr}`);
      assert.equal(bundled.stdout, oclif.stdout, args.join(' '));
      // The error line; the usage oclif prints after a parse error follows process.argv, which
      // the oclif run here (node -e) lacks.
      const firstLine = (text: string): string => text.trim().split('\n')[0] ?? '';
      assert.equal(firstLine(bundled.stderr), firstLine(oclif.stderr), args.join(' '));
    }
    assert.equal((await runCli(['info', 'nope', '--json'], { dataDir })).code, 3);
    const badFlag = await runCli(['list', '--no-such-flag'], { dataDir });
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /Nonexistent flag: --no-such-flag[\s\S]*\$ piramid list/);
    assert.equal((JSON.parse((await runCli(['list', '--json'], { dataDir })).stdout) as { collections: { name: string }[] }).collections[0]?.name, 'vec');
  });

  it('runs a query exactly as the command run by oclif from dist/src', async () => {
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
