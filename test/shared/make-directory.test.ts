// Tests makeDirectorySync: nested directories made, an existing one left alone, a file in the
// way refused, and a kernel that answers ENOENT under an existing parent (/proc) refused at
// once, where node's recursive mkdir never returns. Also Store.open and backup on such a path.

import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirectorySync } from '../../dist/shared/make-directory.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterAll(removeTempDirs);

describe('makeDirectorySync', () => {
  it('makes missing parents, and leaves an existing directory alone', async () => {
    const root = await makeTempDir('mkdir');
    const deep = join(root, 'a', 'b', 'c');
    makeDirectorySync(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeDirectorySync(deep);
    makeDirectorySync(`${root}/a/./b/../b/c/`);
    expect(statSync(deep).isDirectory()).toBe(true);
  });

  it('refuses a file in the way, at the path or above it', async () => {
    const root = await makeTempDir('mkdir-file');
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(() => makeDirectorySync(file)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => makeDirectorySync(join(file, 'sub'))).toThrow(
      expect.objectContaining({ code: 'ENOTDIR' }),
    );
  });

  it.runIf(existsSync('/proc/self'))(
    'throws ENOENT where the parent exists and the kernel refuses the name (/proc)',
    async () => {
      expect(() => makeDirectorySync('/proc/kvd-no-such-dir/sub')).toThrow(
        expect.objectContaining({ code: 'ENOENT' }),
      );
      // In a child with a time limit: were the hang back, it would block its thread for good.
      const script = `
        import { Store } from 'kvd';
        const codeOf = (p) => p.then(() => 'resolved', (e) => e.code + ' ' + e.message);
        console.log(await codeOf(Store.open('/proc/kvd-no-such-dir')));
        const store = await Store.open(process.argv[1], { readers: 1 });
        console.log(await codeOf(store.backup('/proc/kvd-no-such-dir/backup')));
        await store.close();`;
      const run = spawnSync(
        process.execPath,
        ['--input-type=module', '--eval', script, await makeTempDir('mkdir-store')],
        { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 30_000 },
      );
      expect(run.signal).toBeNull();
      const [open, backup] = run.stdout.trim().split('\n');
      expect(open).toMatch(/^KV_IO cannot create \/proc\/kvd-no-such-dir/);
      expect(backup).toMatch(/^KV_IO /);
    },
  );
});
