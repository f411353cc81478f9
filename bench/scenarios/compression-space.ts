// Scenario "compression-space": compressible values under each `compression` setting. DOCS JSON
// documents of ~1 KiB (bench/lib/block-datasets.ts `jsonDocument`) are loaded, then compact()
// merges them into data segments, whose values the setting compresses one by one
// (src/shared/point-value.ts). For each setting: every file of the directory but LOCK ÷ the
// user's key + value bytes, compact()'s time, and getSync of random documents (whose every hit
// decompresses its value). Each setting's store is checked for a sample of documents.

import { prng } from '../../test/fixtures/prng.js';
import { openKvd } from '../engines/kvd.js';
import { jsonDocument } from '../lib/block-datasets.js';
import { formatNumber } from '../lib/format.js';
import { directoryBytes } from '../lib/kvd-files.js';
import { measureOnce, measureSync } from '../lib/measure.js';
import type { Figure } from '../lib/results.js';
import { figureId, type Scenario } from '../lib/scenario.js';

/** Documents at a full run (--keys 1M); reduced runs take a tenth of --keys. */
const DOCS = 100_000;
const SETTINGS = ['none', 'lz4', 'zstd'] as const;
/** Documents a batch writes. */
const BATCH = 1000;
const MIB = 2 ** 20;

export const scenario: Scenario = {
  id: 'compression-space',
  title: 'compressible values (JSON documents of ~1 KiB): disk and getSync per compression setting',
  async run({ config, temp }, out) {
    const docs = Math.min(DOCS, Math.max(1000, Math.floor(config.keys / 10)));
    const rand = prng(2);
    const keys = Array.from({ length: docs }, (_, i) => `doc:${String(i).padStart(8, '0')}`);
    const values = keys.map((_, i) => Buffer.from(jsonDocument(rand, i)));
    const userBytes = keys.reduce((n, k, i) => n + Buffer.byteLength(k) + values[i]!.length, 0);
    const probes = Array.from({ length: 65_536 }, (_, i) => keys[(i * 7919) % docs]!);
    const gets: Partial<Record<(typeof SETTINGS)[number], Figure>> = {};
    for (const compression of SETTINGS) {
      const dir = temp.dir(`compression-space-${compression}`);
      const store = await openKvd(dir, 'no', config.readers, {
        compression,
        compaction: { auto: false, bytesPerSecond: 0 },
      });
      try {
        for (let i = 0; i < docs; i += BATCH) {
          const ops = [];
          for (let j = i; j < Math.min(docs, i + BATCH); j++) {
            ops.push({ type: 'set' as const, key: keys[j]!, value: values[j]! });
          }
          await store.batch(ops);
        }
        const compactMs = await measureOnce(async () => {
          await store.compact();
        });
        for (let i = 0; i < docs; i += 997) {
          if (!store.getSync(keys[i]!)?.equals(values[i]!)) {
            throw new Error(`${keys[i]} came back wrong under compression '${compression}'`);
          }
        }
        const files = directoryBytes(dir);
        const id = (variant: string) =>
          figureId('compression-space', undefined, 'kvd', `${compression}.${variant}`);
        out.value(
          {
            id: id('filesPerUser'),
            label: `all files ÷ user's key + value bytes, compression '${compression}'`,
            engine: 'kvd',
            unit: 'disk/live',
            better: 'lower',
            how:
              `${formatNumber(files.total / MIB)} MiB (segments ${formatNumber(files.segments / MIB)} ` +
              `MiB, key runs ${formatNumber(files.keyRuns / MIB)} MiB) ÷ ` +
              `${formatNumber(userBytes / MIB)} MiB, after compact()`,
          },
          files.total / userBytes,
        );
        out.value(
          {
            id: id('compactMs'),
            label: `compact() time, compression '${compression}'`,
            engine: 'kvd',
            unit: 'ms',
            better: 'lower',
            how: `${docs.toLocaleString('en-US')} documents in one merge, no rate limit`,
          },
          compactMs,
        );
        gets[compression] = out.measured(
          {
            id: id('getSync'),
            label: `getSync of a document, compression '${compression}'`,
            engine: 'kvd',
            unit: 'keys/s',
            better: 'higher',
            how: 'caller thread; every hit checks the entry CRC and, when compressed, decompresses',
          },
          measureSync((i) => (store.getSync(probes[i & 0xffff]!) ? 1 : 0), {
            timeMs: config.timeMs,
          }),
        );
      } finally {
        await store.close();
      }
    }
    for (const compression of ['lz4', 'zstd'] as const) {
      out.ratio(
        figureId('compression-space', undefined, 'ratio', `getSync.${compression}/none`),
        `getSync, compression '${compression}' ÷ 'none'`,
        gets[compression]!,
        gets.none!,
      );
    }
    out.note(
      `${docs.toLocaleString('en-US')} JSON documents of ~1 KiB (keys doc:00000000…, ` +
        `${formatNumber(userBytes / MIB)} MiB of keys and values), loaded in batches of ${BATCH} ` +
        `(durability 'no', automatic compaction off), then compact(); values are compressed one ` +
        `by one in data segments (each where it saves 1/8), key runs by block`,
    );
  },
};
