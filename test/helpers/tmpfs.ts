import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * A small tmpfs mounted for a test, to fill a disk for real (needs root, as CI and the developers'
 * machines have; the caller skips with the reason otherwise). Unmounted after the file's tests.
 */
export function mount(args: string[]): { ok: boolean; reason: string } {
  const result = spawnSync('mount', args, { encoding: 'utf8' });
  return { ok: result.status === 0, reason: `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim() };
}

export async function tmpfs(sizeMb: number): Promise<{ path: string } | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  // Not tempDir(): its clean-up could run before the unmount and fail on a busy mount point.
  const path = await mkdtemp(join(tmpdir(), 'piramid-tmpfs-'));
  const mounted = mount(['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', path]);
  if (!mounted.ok) {
    await rm(path, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${mounted.reason}` };
  }
  after(async () => {
    spawnSync('umount', ['-l', path]);
    await rm(path, { recursive: true, force: true });
  });
  return { path };
}

/** Grows (or shrinks) a tmpfs mounted by tmpfs(). */
export function resizeTmpfs(path: string, sizeMb: number): boolean {
  return mount(['-o', `remount,size=${sizeMb}m`, path]).ok;
}
