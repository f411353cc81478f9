// Owns the codecs the compression evaluation compares, in groups that each run in a process of
// their own: kvd's block-compression.ts, and other packages called through their own sync APIs
// (loaded from a scratch directory, since they are not kvd dependencies).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type Compression,
  compressorFor,
  decompressBlock,
} from '../../src/shared/block-compression.js';

/** One codec: `compress` gives the stored form (undefined: stored raw), `decompress` undoes it. */
export interface Codec {
  readonly name: string;
  /** Where it comes from: `kvd` (block-compression.ts) or `package@version`. */
  readonly source: string;
  readonly compress: (raw: Uint8Array) => Uint8Array | undefined;
  /** False for a decoder-only package, whose input another codec makes (untimed). */
  readonly timeCompress: boolean;
  readonly decompress: (packed: Uint8Array, rawLength: number) => Uint8Array;
}

/** A group's codecs, given the directory whose node_modules holds the other packages. */
export type CodecGroup = (candidatesDir: string) => Codec[];

function kvdCodec(compression: Compression, level?: number): Codec {
  const compressor = compressorFor(compression, level);
  return {
    name: `kvd ${compression}${level === undefined ? '' : ` level ${level}`}`,
    source: 'kvd',
    compress: (raw) => compressor.compress(raw),
    timeCompress: true,
    decompress: (packed, rawLength) => decompressBlock(compressor.type, packed, rawLength),
  };
}

interface Lz4NapiApi {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
}
interface ZstdNapiApi {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number }): Buffer;
  decompress(data: Uint8Array): Buffer;
}
interface NodeZstdApi {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer };
  Decoder: new () => { decodeSync(data: Buffer): Buffer };
}
interface Lz4WasmApi {
  compress(input: Uint8Array): Uint8Array;
  decompress(input: Uint8Array): Uint8Array;
}
interface Lz4jsApi {
  decompressBlock(src: Uint8Array, dst: Uint8Array, at: number, length: number, to: number): number;
}
interface FzstdApi {
  decompress(data: Uint8Array, out?: Uint8Array): Uint8Array;
}

/** `name` required from `dir`'s node_modules, with its `name@version`. */
function load<T>(dir: string, name: string): { readonly api: T; readonly source: string } {
  const api = createRequire(join(dir, 'package.json'))(name) as T;
  const manifest = readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8');
  return { api, source: `${name}@${(JSON.parse(manifest) as { version: string }).version}` };
}

/** The groups by name, in the order the evaluation runs them. */
export const CODEC_GROUPS: Readonly<Record<string, CodecGroup>> = {
  kvd: () => [kvdCodec('lz4'), kvdCodec('zstd', 1), kvdCodec('zstd', 3)],
  'lz4-napi': (dir) => {
    const { api, source } = load<Lz4NapiApi>(dir, 'lz4-napi');
    return [
      {
        name: 'lz4-napi',
        source,
        compress: (raw) => api.compressSync(Buffer.from(raw)),
        timeCompress: true,
        decompress: (packed) => api.uncompressSync(packed),
      },
    ];
  },
  'lz4-wasm-nodejs': (dir) => {
    const { api, source } = load<Lz4WasmApi>(dir, 'lz4-wasm-nodejs');
    return [
      {
        name: 'lz4-wasm-nodejs',
        source,
        compress: (raw) => api.compress(raw),
        timeCompress: true,
        decompress: (packed) => api.decompress(packed),
      },
    ];
  },
  // Pure JS, decoding kvd's lz4 blocks (after their u32 length prefix).
  lz4js: (dir) => {
    const { api, source } = load<Lz4jsApi>(dir, 'lz4js');
    const lz4 = kvdCodec('lz4');
    const decompress = (packed: Uint8Array, rawLength: number) => {
      const out = new Uint8Array(rawLength);
      api.decompressBlock(packed, out, 4, packed.length - 4, 0);
      return out;
    };
    return [
      { name: 'lz4js (pure JS)', source, compress: lz4.compress, timeCompress: false, decompress },
    ];
  },
  'zstd-napi': (dir) => {
    const { api, source } = load<ZstdNapiApi>(dir, 'zstd-napi');
    return [1, 3].map((level) => ({
      name: `zstd-napi level ${level}`,
      source,
      compress: (raw: Uint8Array) => api.compress(raw, { compressionLevel: level }),
      timeCompress: true,
      decompress: (packed: Uint8Array) => api.decompress(packed),
    }));
  },
  '@toondepauw/node-zstd': (dir) => {
    const { api, source } = load<NodeZstdApi>(dir, '@toondepauw/node-zstd');
    const decoder = new api.Decoder();
    return [1, 3].map((level) => {
      const encoder = new api.Encoder(level);
      return {
        name: `node-zstd level ${level}`,
        source,
        compress: (raw: Uint8Array) => encoder.encodeSync(Buffer.from(raw)),
        timeCompress: true,
        decompress: (packed: Uint8Array) => decoder.decodeSync(Buffer.from(packed)),
      };
    });
  },
  // Pure JS, decode only, decoding kvd's zstd level 3 frames.
  fzstd: (dir) => {
    const { api, source } = load<FzstdApi>(dir, 'fzstd');
    const zstd = kvdCodec('zstd', 3);
    const decompress = (packed: Uint8Array, rawLength: number) =>
      api.decompress(packed, new Uint8Array(rawLength));
    return [
      { name: 'fzstd (pure JS)', source, compress: zstd.compress, timeCompress: false, decompress },
    ];
  },
};
