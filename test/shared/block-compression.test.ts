// Tests for block compression (src/shared/block-compression.ts): round trips of lz4 and zstd on
// compressible, empty and incompressible blocks; every byte flip and truncation of a compressed
// block ends in KV_CORRUPTION or the exact raw length, never a crash or another length; option
// checks; the bindings used from worker threads; and a missing binding failing only when chosen.

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Compression,
  CompressionUnavailableError,
  compressorFor,
  DEFAULT_COMPRESSION,
  decompressBlock,
} from '../../dist/shared/block-compression.js';
import {
  COMPRESSION_LZ4,
  COMPRESSION_NONE,
  COMPRESSION_ZSTD,
} from '../../dist/shared/sorted-format.js';
import { expectThrowsWith } from '../fixtures/kv-errors.js';
import { prng } from '../fixtures/prng.js';
import { distUrl, TestWorker, WorkerSources } from './thread-harness.js';

const requireDep = createRequire(import.meta.url);

/** ~4 KiB of JSON-like text, as a data block of documents would hold. */
function jsonBlock(seed: number): Uint8Array {
  const rand = prng(seed);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'user', 'active', 'street', 'city'];
  let text = '';
  for (let i = 0; text.length < 4096; i++) {
    const bio = Array.from({ length: 12 }, () => words[Math.floor(rand() * words.length)]);
    text += JSON.stringify({ id: i, user: `user_${Math.floor(rand() * 1e5)}`, bio: bio.join(' ') });
  }
  return new TextEncoder().encode(text.slice(0, 4096));
}

function randomBlock(seed: number, length = 4096): Uint8Array {
  const rand = prng(seed);
  return Uint8Array.from({ length }, () => Math.floor(rand() * 256));
}

/** The block compressed by `compression`, which must find it worth storing. */
function packed(compression: Compression, raw: Uint8Array): Uint8Array {
  const bytes = compressorFor(compression).compress(raw);
  if (bytes === undefined) throw new Error(`${compression} did not compress the block`);
  return bytes;
}

const CODECS = [
  { compression: 'lz4', type: COMPRESSION_LZ4 },
  { compression: 'zstd', type: COMPRESSION_ZSTD },
] as const;

describe('compressorFor', () => {
  it("'none' never compresses, and is the default", () => {
    const compressor = compressorFor('none');
    expect(compressor.type).toBe(COMPRESSION_NONE);
    expect(compressor.compress(jsonBlock(1))).toBeUndefined();
    expect(DEFAULT_COMPRESSION).toBe('none');
  });

  it('refuses an unknown compression and levels that do not apply', () => {
    expectThrowsWith(() => compressorFor('gzip' as Compression), 'KV_INVALID_ARGUMENT');
    expectThrowsWith(() => compressorFor('lz4', 3), 'KV_INVALID_ARGUMENT');
    expectThrowsWith(() => compressorFor('none', 1), 'KV_INVALID_ARGUMENT');
    for (const level of [0, -1, 23, 1.5, Number.NaN]) {
      expectThrowsWith(
        () => compressorFor('zstd', level),
        'KV_INVALID_ARGUMENT',
        `level ${level}: `,
      );
    }
    expect(compressorFor('zstd', 1).type).toBe(COMPRESSION_ZSTD);
    expect(compressorFor('zstd', 22).type).toBe(COMPRESSION_ZSTD);
  });
});

describe.each(CODECS)('$compression', ({ compression, type }) => {
  it('round-trips a JSON-like block, saving at least 1/8 of it', () => {
    for (const seed of [1, 2, 3]) {
      const raw = jsonBlock(seed);
      const bytes = packed(compression, raw);
      expect(bytes.length).toBeLessThan(raw.length - raw.length / 8);
      expect(decompressBlock(type, bytes, raw.length)).toEqual(raw);
    }
  });

  it('round-trips any block it chooses to compress (property)', () => {
    const compressor = compressorFor(compression);
    const block = fc.oneof(
      fc.uint8Array({ maxLength: 6000 }),
      fc
        .array(fc.constantFrom(0, 1, 97, 98, 255), { maxLength: 6000 })
        .map((xs) => Uint8Array.from(xs)),
      fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 200 }))
        .map(([unit, times]) =>
          Uint8Array.from({ length: unit.length * times }, (_, i) => unit[i % unit.length]!),
        ),
    );
    fc.assert(
      fc.property(block, (raw) => {
        const bytes = compressor.compress(raw);
        if (bytes === undefined) return;
        expect(bytes.length).toBeLessThan(raw.length - raw.length / 8);
        expect(decompressBlock(type, bytes, raw.length)).toEqual(raw);
      }),
      { numRuns: 300 },
    );
  });

  it('stores empty and incompressible blocks raw', () => {
    const compressor = compressorFor(compression);
    expect(compressor.compress(new Uint8Array(0))).toBeUndefined();
    for (const length of [1, 100, 4096, 65536]) {
      expect(compressor.compress(randomBlock(length, length))).toBeUndefined();
    }
  });

  it("decodes the library's own encoding of an empty block to an empty block", () => {
    const empty =
      compression === 'lz4'
        ? (requireDep('lz4-napi') as typeof import('lz4-napi')).compressSync(Buffer.alloc(0))
        : (requireDep('zstd-napi') as typeof import('zstd-napi')).compress(new Uint8Array(0));
    expect(decompressBlock(type, empty, 0)).toEqual(new Uint8Array(0));
  });

  it('turns every byte flip into KV_CORRUPTION or exactly rawLength bytes', () => {
    // Neither format carries a checksum here (the block trailer's CRC32C covers the stored
    // bytes), so a flip may decode to other bytes; it must never decode to another length.
    const raw = jsonBlock(7);
    const bytes = packed(compression, raw);
    let refused = 0;
    for (let at = 0; at < bytes.length; at++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = bytes.slice();
        bad[at]! ^= mask;
        try {
          expect(decompressBlock(type, bad, raw.length).length).toBe(raw.length);
        } catch (error) {
          expectThrowsWith(
            () => {
              throw error;
            },
            'KV_CORRUPTION',
            `flip ${mask} at ${at}: `,
          );
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses every truncation and a wrong raw length with KV_CORRUPTION', () => {
    const raw = jsonBlock(8);
    const bytes = packed(compression, raw);
    for (let length = 0; length < bytes.length; length++) {
      const cut = bytes.subarray(0, length);
      expectThrowsWith(
        () => decompressBlock(type, cut, raw.length),
        'KV_CORRUPTION',
        `cut at ${length}: `,
      );
    }
    for (const rawLength of [raw.length - 1, raw.length + 1, 0, 0xffff_ffff]) {
      expectThrowsWith(
        () => decompressBlock(type, bytes, rawLength),
        'KV_CORRUPTION',
        `rawLength ${rawLength}: `,
      );
    }
    expectThrowsWith(() => decompressBlock(type, randomBlock(9, 300), 4096), 'KV_CORRUPTION');
  });
});

describe('decompressBlock', () => {
  it('returns a raw block as it is, when the lengths agree', () => {
    const raw = randomBlock(10, 64);
    expect(decompressBlock(COMPRESSION_NONE, raw, raw.length)).toBe(raw);
    expectThrowsWith(() => decompressBlock(COMPRESSION_NONE, raw, 63), 'KV_CORRUPTION');
  });

  it('refuses an unknown type and an impossible raw length with KV_CORRUPTION', () => {
    const bytes = packed('lz4', jsonBlock(11));
    for (const type of [3, 7, 255]) {
      expectThrowsWith(() => decompressBlock(type, bytes, 4096), 'KV_CORRUPTION', `type ${type}: `);
    }
    for (const rawLength of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expectThrowsWith(
        () => decompressBlock(COMPRESSION_LZ4, bytes, rawLength),
        'KV_CORRUPTION',
        `rawLength ${rawLength}: `,
      );
    }
  });
});

describe('in worker threads', () => {
  let sources: WorkerSources;
  beforeAll(async () => {
    sources = await WorkerSources.create();
  });
  afterAll(async () => {
    await sources.dispose();
  });

  // Compresses the block it is given with each codec, decompresses what it is sent back.
  const codecWorker = (moduleUrl: string) => `
import { parentPort, workerData } from 'node:worker_threads';
import { compressorFor, decompressBlock } from ${JSON.stringify(moduleUrl)};
const raw = new Uint8Array(workerData.raw);
const out = {};
for (const c of ['lz4', 'zstd']) out[c] = compressorFor(c).compress(raw);
parentPort.postMessage(out);
parentPort.once('message', (m) => {
  parentPort.postMessage(m.map(({ type, bytes, rawLength }) => decompressBlock(type, bytes, rawLength)));
});
`;

  it('compresses and decompresses in two workers at once, interchangeably with this thread', async () => {
    const path = await sources.write('codec', codecWorker(distUrl('shared/block-compression.js')));
    const raw = jsonBlock(12);
    const workers = [new TestWorker(path, { raw }), new TestWorker(path, { raw })];
    try {
      for (const worker of workers) {
        const made = (await worker.next()) as Record<'lz4' | 'zstd', Uint8Array>;
        expect(decompressBlock(COMPRESSION_LZ4, made.lz4, raw.length)).toEqual(raw);
        expect(decompressBlock(COMPRESSION_ZSTD, made.zstd, raw.length)).toEqual(raw);
        worker.worker.postMessage([
          { type: COMPRESSION_LZ4, bytes: packed('lz4', raw), rawLength: raw.length },
          { type: COMPRESSION_ZSTD, bytes: packed('zstd', raw), rawLength: raw.length },
        ]);
      }
      for (const worker of workers) {
        const back = (await worker.next()) as Uint8Array[];
        expect(back).toEqual([raw, raw]);
      }
    } finally {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    }
  });

  // Stands in for a machine where the native packages did not install: this worker's CommonJS
  // loader refuses them, so the module must still import and 'none' still work.
  const missingWorker = (moduleUrl: string) => `
import Module from 'node:module';
import { parentPort } from 'node:worker_threads';
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'lz4-napi' || request.startsWith('zstd-napi')) {
    throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
  }
  return load.call(this, request, ...rest);
};
const m = await import(${JSON.stringify(moduleUrl)});
const attempt = (fn) => {
  try {
    fn();
    return { ok: true };
  } catch (e) {
    return { code: e.code, packageName: e.packageName, unavailable: e instanceof m.CompressionUnavailableError };
  }
};
parentPort.postMessage({
  none: m.compressorFor('none').type,
  lz4: attempt(() => m.compressorFor('lz4')),
  zstd: attempt(() => m.compressorFor('zstd')),
  readLz4: attempt(() => m.decompressBlock(1, new Uint8Array([0]), 0)),
  readZstd: attempt(() => m.decompressBlock(2, new Uint8Array(9), 0)),
});
`;

  it('a missing binding fails only when its compression is used, naming the package', async () => {
    const path = await sources.write(
      'missing',
      missingWorker(distUrl('shared/block-compression.js')),
    );
    const worker = new TestWorker(path, undefined);
    try {
      const lz4 = { code: 'KV_INVALID_ARGUMENT', packageName: 'lz4-napi', unavailable: true };
      const zstd = { code: 'KV_INVALID_ARGUMENT', packageName: 'zstd-napi', unavailable: true };
      expect(await worker.next()).toEqual({
        none: COMPRESSION_NONE,
        lz4,
        zstd,
        readLz4: lz4,
        readZstd: zstd,
      });
    } finally {
      await worker.worker.terminate();
    }
    // This thread's loader is untouched: the class is the one a caller can test for.
    expect(new CompressionUnavailableError('lz4', 'lz4-napi', new Error('x')).code).toBe(
      'KV_INVALID_ARGUMENT',
    );
  });
});
