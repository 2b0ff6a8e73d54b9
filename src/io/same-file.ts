import { stat } from 'node:fs/promises';

/**
 * Whether two paths name one file: the same device and inode once symbolic links are followed, so
 * a symlink to the input or a hard link of it counts, as `cp` tells "are the same file". A path
 * that does not exist (a new output) is no file yet: false.
 */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([stat(a, { bigint: true }), stat(b, { bigint: true })]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
