// Crash safety of a backup: a child process (test/fixtures/backup-writer.mjs) writes, merges,
// then backs its store up while it keeps writing, and is killed with SIGKILL at each backup
// fault point (KVD_FAULT: after the capture turn's links, in the middle of copying the active
// segment, with links and with copies, before the staging directory's rename, after it).
// Afterwards the store must open with every acknowledged write (plus, at most, the one in
// flight); the destination must not exist before the rename point and, from it on, open as a
// store equal to the writes' state at one point no earlier than the backup call; a leftover
// staging directory must be removed by the next backup to the same place, which completes.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { applyAnnounced, type Model } from '../fixtures/announced-model.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { contentsAt, describeDiff } from '../fixtures/store-contents.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const POINTS: readonly (readonly [point: string, mode: 'link' | 'copy'])[] = [
  ['backup-captured', 'link'],
  ['backup-copying', 'link'],
  ['backup-copying', 'copy'],
  ['backup-staged', 'link'],
  ['backup-renamed', 'link'],
];

/** Reads the child's lines until it ends: announced operations, the acknowledged count, others. */
async function collect(child: ChildLines) {
  const announced: string[] = [];
  let acked = 0;
  const other: string[] = [];
  for (let line = await child.next(); line !== undefined; line = await child.next()) {
    if (line.startsWith('I ')) announced.push(line);
    else if (line.startsWith('A ')) acked++;
    else other.push(line);
  }
  return { announced, acked, other, exit: await child.exited };
}

function same(a: Model, b: Model): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

describe('crash safety of a backup (kill -9)', () => {
  it.each(POINTS)(
    'killed at %s (%s): the store keeps every acknowledged write; the backup is absent or complete',
    async (point, mode) => {
      const dir = await makeTempDir('backup-crash');
      const parent = await makeTempDir('backup-crash-dst');
      const to = join(parent, 'copy');
      const child = new ChildLines(
        process.execPath,
        [fixturePath('backup-writer.mjs'), dir, to, mode, '11'],
        { KVD_FAULT: point },
      );
      const { announced, acked, other, exit } = await collect(child);
      expect(exit.signal, `the fault point was reached; stderr: ${child.stderr}`).toBe('SIGKILL');
      expect(other, 'killed during the backup').toHaveLength(1);
      const atCall = Number(/^B (\d+)$/.exec(other[0]!)?.[1]);
      expect(atCall).toBe(400);
      const states: Model[] = [new Map()];
      for (const line of announced) states.push(applyAnnounced(states[states.length - 1]!, line));

      const source = await contentsAt(dir);
      expect(
        same(source, states[acked]!) ||
          (announced.length > acked && same(source, states[acked + 1]!)),
        `the store holds the acknowledged writes: ${describeDiff(source, states[acked]!)}`,
      ).toBe(true);

      const leftovers = readdirSync(parent).filter((n) => n.startsWith('copy.tmp-'));
      if (point === 'backup-renamed') {
        expect(leftovers).toEqual([]);
        const copy = await contentsAt(to);
        const at = states.findIndex((state, k) => k >= atCall && same(state, copy));
        expect(at, 'the backup is the state after some operation since the call').toBeGreaterThan(
          -1,
        );
      } else {
        expect(existsSync(to), 'nothing at the destination before the rename').toBe(false);
        expect(leftovers, 'the staging directory is left').toHaveLength(1);
      }

      // The next backup to the same place removes the dead process's staging and completes.
      const store = await Store.open(dir, { readers: 1, compaction: { auto: false } });
      try {
        await store.backup(to, { replace: true });
      } finally {
        await store.close();
      }
      expect(readdirSync(parent).sort()).toEqual(
        point === 'backup-renamed' ? ['copy', 'copy.old'] : ['copy'],
      );
      expect(await contentsAt(to)).toEqual(source);
    },
  );
});
