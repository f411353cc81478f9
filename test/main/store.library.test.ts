// kvd behaves like a library (issue 9): it prints nothing unless given a logger (and then every
// thread's lines reach it), an idle store lets the process exit while pending work still
// completes, its threads ignore the host's Node flags, and Store.open refuses unknown options.
// Real child processes (test/fixtures/library-child.mjs) show what a plain script sees.

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Logger, Store, type StoreOptions, spawnStore } from '../../dist/main/index.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { expectFailsWith } from '../fixtures/kv-errors.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const CHILD = fixturePath('library-child.mjs');
/** Generous bound on a child's run: it normally takes well under a second. */
const EXIT_BOUND_MS = 30_000;

afterEach(removeTempDirs);

interface LoggedLine {
  readonly level: string;
  readonly component: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** Runs the fixture in `log` mode with KVD_LOG_LEVEL=info; resolves with its output once it exits. */
async function runLogChild(loggerMode: 'none' | 'object' | 'true') {
  const dir = await makeTempDir('library-log');
  const child = new ChildLines(process.execPath, [CHILD, 'log', dir, loggerMode], {
    KVD_LOG_LEVEL: 'info',
  });
  const lines = await child.rest();
  const exit = await child.exitedWithin(EXIT_BOUND_MS);
  expect(exit, child.stderr).toEqual({ code: 0, signal: null });
  expect(lines.at(-1)).toBe('closed');
  const logged = lines
    .filter((line) => line.startsWith('line '))
    .map((line) => JSON.parse(line.slice('line '.length)) as LoggedLine);
  return { logged, stderr: child.stderr };
}

describe('logging', () => {
  it('prints nothing without a logger, from any thread, whatever KVD_LOG_LEVEL says', async () => {
    const { logged, stderr } = await runLogChild('none');
    expect(logged).toEqual([]);
    expect(stderr).toBe('');
  });

  it("hands a logger object the store's lines and the writer thread's", async () => {
    const { logged, stderr } = await runLogChild('object');
    expect(stderr).toBe('');
    const seen = logged.map((l) => `${l.level} ${l.component}: ${l.msg}`);
    expect(seen).toContain('info writer: recovery finished');
    expect(seen).toContain('info store: store opened');
    expect(seen).toContain('info store: store closed');
    const recovery = logged.find((l) => l.msg === 'recovery finished')!;
    expect(recovery.fields).toMatchObject({ component: 'writer', records: 0 });
  });

  it('writes JSON lines on stderr with logger: true', async () => {
    const { logged, stderr } = await runLogChild('true');
    expect(logged).toEqual([]);
    const lines = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { component: string; msg: string });
    expect(lines.map((l) => `${l.component}: ${l.msg}`)).toEqual(
      expect.arrayContaining(['writer: recovery finished', 'store: store opened']),
    );
  });

  it('takes a pino logger (typed as kvd Logger) in-process', async () => {
    const dir = await makeTempDir('library-pino');
    const logger: Logger = pino({ level: 'silent' });
    const store = await Store.open(dir, { readers: 1, logger });
    await store.set('k', 'v');
    await store.close();
  });
});

describe('process lifetime', () => {
  it('an idle open store lets the process exit; writes not awaited are applied', async () => {
    const dir = await makeTempDir('library-idle');
    const child = new ChildLines(process.execPath, [CHILD, 'idle', dir]);
    expect(await child.expectLine()).toBe('written');
    const exit = await child.exitedWithin(EXIT_BOUND_MS);
    expect(exit, child.stderr).toEqual({ code: 0, signal: null });
    const store = await Store.open(dir, { readers: 1 });
    try {
      expect(String(await store.get('a'))).toBe('awaited');
      expect(String(await store.get('b'))).toBe('not awaited');
      expect(String(await store.get('c'))).toBe('not awaited either');
    } finally {
      await store.close();
    }
  });

  it('a compact() not awaited keeps the process alive until it settles', async () => {
    const dir = await makeTempDir('library-compact');
    const child = new ChildLines(process.execPath, [CHILD, 'compact', dir]);
    expect(await child.expectLine()).toBe('compacting');
    const settled = await child.expectLine();
    expect(settled).toMatch(/^compacted [1-9]/);
    const exit = await child.exitedWithin(EXIT_BOUND_MS);
    expect(exit, child.stderr).toEqual({ code: 0, signal: null });
    const store = await Store.open(dir, { readers: 1, compaction: { auto: false } });
    try {
      expect((await store.stats()).segments.some((s) => s.merged)).toBe(true);
      expect(String(await store.get('key7'))).toBe('x'.repeat(100));
    } finally {
      await store.close();
    }
  });
});

describe("threads' Node flags", () => {
  it('a `node --input-type=module -e` script opens, writes, reads, compacts and closes', async () => {
    const dir = await makeTempDir('library-eval');
    const index = new URL('../../dist/main/index.js', import.meta.url).href;
    const script = `
      import { writeSync } from 'node:fs';
      import { Store } from ${JSON.stringify(index)};
      const store = await Store.open(${JSON.stringify(dir)}, {
        readers: 1, inlineReadKeys: 0, segmentBytes: 4096, compaction: { auto: false },
      });
      for (let i = 0; i < 100; i++) await store.set('k' + (i % 5), 'v'.repeat(100) + i);
      writeSync(1, 'got ' + String(await store.get('k4')).slice(100) + '\\n');
      writeSync(1, 'merges ' + (await store.compact()).merges + '\\n');
      await store.close();
      writeSync(1, 'closed\\n');
    `;
    const child = new ChildLines(process.execPath, ['--input-type=module', '-e', script]);
    const lines = await child.rest();
    const exit = await child.exitedWithin(EXIT_BOUND_MS);
    expect(exit, child.stderr).toEqual({ code: 0, signal: null });
    expect(lines[0]).toBe('got 99');
    expect(lines[1]).toMatch(/^merges [1-9]/);
    expect(lines[2]).toBe('closed');
  });
});

describe('options', () => {
  it('refuses an unknown option, at the top level or in compaction, naming it', async () => {
    const dir = await makeTempDir('library-options');
    const top = await expectFailsWith(
      () => Store.open(dir, { readers: 1, segmentbytes: 4096 } as StoreOptions),
      'KV_INVALID_ARGUMENT',
    );
    expect(top.message).toContain('segmentbytes');
    const nested = await expectFailsWith(
      () => Store.open(dir, { readers: 1, compaction: { interval: 10 } } as StoreOptions),
      'KV_INVALID_ARGUMENT',
    );
    expect(nested.message).toContain('compaction.interval');
  });

  it('refuses a logger that is neither a boolean nor an object with the four methods', async () => {
    const dir = await makeTempDir('library-options');
    for (const logger of ['info', { info() {} }, null]) {
      await expectFailsWith(
        () => Store.open(dir, { readers: 1, logger } as unknown as StoreOptions),
        'KV_INVALID_ARGUMENT',
      );
    }
  });

  it('accepts every documented option', async () => {
    const dir = await makeTempDir('library-options');
    const options: StoreOptions = {
      durability: 'everysec',
      readers: 1,
      segmentBytes: 1024 * 1024,
      maxKeyBytes: 1024,
      maxValueBytes: 1024 * 1024,
      readMode: 'pread',
      inlineReadKeys: 16,
      hashBits: 32,
      snapshotIntervalMs: 0,
      onRecoveryProgress: () => {},
      logger: false,
      compaction: {
        auto: true,
        intervalMs: 60_000,
        triggerDeadRatio: 0.5,
        triggerDeadBytes: 1024 * 1024,
        includeDeadRatio: 0.3,
        smallSegmentBytes: 1024,
        maxMergeBytes: 1024 * 1024,
        bytesPerSecond: 0,
      },
    };
    const store = await Store.open(dir, options);
    await store.close();
  });

  it('spawnStore refuses a logger object, which cannot cross processes', async () => {
    const dir = await makeTempDir('library-options');
    const logger: Logger = pino({ level: 'silent' });
    await expectFailsWith(() => spawnStore(dir, { logger }), 'KV_INVALID_ARGUMENT');
  });
});
