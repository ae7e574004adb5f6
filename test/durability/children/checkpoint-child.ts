/**
 * Child process of the crash tests (kill during index checkpoint), through the engine API:
 *   node checkpoint-child.js --crash-child <dir> <seed> <templateSize> <dimension> <batches>
 * opens the folder, then per batch b = 1..batches: upserts checkpointBatch(b) and prints
 * `ack <b>` once it is acknowledged, then `checkpoint-start <b>`, writes the index checkpoint,
 * prints `checkpoint-done <b>`. The parent SIGKILLs it somewhere in there.
 *
 * Without `--crash-child` it does nothing: node's test runner runs every .js file under test/.
 */
import { checkpointBatch } from '../crash-data.js';

async function main(args: string[]): Promise<void> {
  const [dir, seed, templateSize, dimension, batches] = args;
  const { Database } = await import('../../../src/index.js');
  const db = await Database.open(dir as string);
  const collection = await db.collection('c');
  // Pipes are written synchronously on Linux: once a line is printed it is out of this process.
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say('opened');
  for (let b = 1; b <= Number(batches); b++) {
    await collection.upsert(checkpointBatch(Number(seed), b, Number(templateSize), Number(dimension)));
    say(`ack ${b}`);
    say(`checkpoint-start ${b}`);
    await collection.checkpoint();
    say(`checkpoint-done ${b}`);
  }
  await db.close();
  say('closed');
}

if (process.argv[2] === '--crash-child') await main(process.argv.slice(3));
