// Owns the loading of kvd's native addon (src/native/kvd_native.c, built by node-gyp into
// build/Release) and its typed surface: memory maps (`fileMaps`), the directory's file lock
// (`fileLocks`), giving freed heap memory back (`heapTrim`), the CPU's CRC32C instruction
// (`hardwareCrc32c`) and copying a socket's fd (`socketFds`). Where the addon is missing, all
// are undefined: readers use pread instead, the directory lock falls back to an abstract socket
// (src/main/dir-lock.ts), the daemon keeps what the C library keeps, checksums are computed in
// JS (src/shared/crc32c.ts), and the daemon serves every client on its main thread.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's memory-map functions. */
export interface FileMaps {
  /**
   * Maps the first `length` bytes of the open file `fd` read-only and shared. `length` may
   * exceed the file's size: the pages past its end must not be touched (SIGBUS), which is why
   * readers check every read against the file size they last saw. Throws (code `KV_IO`).
   */
  map(fd: number, length: number): ArrayBuffer;
  /** Detaches the buffer (its views become empty) and unmaps it. Idempotent. */
  unmap(buffer: ArrayBuffer): void;
}

/** The addon's lock function. */
export interface FileLocks {
  /**
   * Takes an exclusive, non-blocking lock on the whole file open as `fd` (which must be open
   * for writing), owned by that open file description (`fcntl(F_OFD_SETLK)`): another open of
   * the same file conflicts with it, in this process or any other, through any path, mount or
   * namespace; it is released when `fd` is closed or the process dies. Returns 0 when taken, or
   * the errno's name when not: `EAGAIN` or `EACCES` if another description holds it, `ENOLCK`,
   * `EINVAL`, `ENOSYS` or `EOPNOTSUPP` where the file system or platform has no such locks,
   * `EBADF` for a bad fd. Never throws for a failed lock; any thread may call it.
   */
  lock(fd: number): 0 | string;
}

/** The addon's heap trim. */
export interface HeapTrim {
  /**
   * Asks the C library to give the free pages of its heaps (every thread's) back to the system
   * (glibc's `malloc_trim(0)`); returns whether it released any. Always false off glibc. Cost:
   * a walk of the heaps, milliseconds; call it when idle.
   */
  trim(): boolean;
  /**
   * Makes the C library map blocks of at least `bytes` on their own, so that freeing one gives
   * its pages back at once (glibc's `mallopt(M_MMAP_THRESHOLD)`); returns whether it took it.
   * Process-wide: for a process kvd owns (`kvd serve`), never a library's host.
   */
  mmapThreshold(bytes: number): boolean;
}

/** The addon's fd copy, which moves a client's socket from one thread to another. */
export interface SocketFds {
  /**
   * A new fd for the open file (socket) `fd` is, close-on-exec (`fcntl(F_DUPFD_CLOEXEC)`), or
   * the errno's name (`EBADF`, `EMFILE`, else `EIO`). Closing either fd leaves the other open.
   */
  dupFd(fd: number): number | string;
}

/**
 * The CRC32C of `bytes[start, end)` continuing from `seed` (0 for a fresh checksum), by the
 * CPU's crc32 instruction: an unsigned 32-bit integer. Throws a `RangeError` (code
 * `KV_INVALID_ARGUMENT`) unless `bytes` is a Uint8Array and `0 <= start <= end <= bytes.length`.
 */
export type HardwareCrc32c = (
  bytes: Uint8Array,
  start: number,
  end: number,
  seed: number,
) => number;

/**
 * The CRC32C of a range of a map this thread made, with no arguments to convert (four JS
 * arguments cost more than the instruction takes for a record; crc32c.ts has the figures).
 */
export interface MapCrc32c {
  /** The id of a map this thread made and has not unmapped (reused once it is). Throws otherwise. */
  mapId(buffer: ArrayBuffer): number;
  /**
   * This thread's argument words for `crc32cMapped`, made by the addon: one array per thread,
   * whichever copy of kvd's modules writes them.
   */
  readonly crcWords: Uint32Array;
  /**
   * Reads [map id, start, end, seed] from `crcWords` and writes the CRC32C of the map's bytes
   * [start, end) to word 4. Throws a `RangeError` (code `KV_INVALID_ARGUMENT`) unless the id
   * names a live map of this thread and `start <= end <=` its length.
   */
  crc32cMapped(): void;
}

interface NativeAddon
  extends FileMaps,
    Partial<FileLocks>,
    Partial<HeapTrim>,
    Partial<SocketFds>,
    Partial<MapCrc32c> {
  crc32c?: HardwareCrc32c;
}

const ADDON = join('build', 'Release', 'kvd_native.node');

function loadAddon(): { addon?: NativeAddon; why: string } {
  // From dist/shared (or dist-bench/src/shared) up to the package root that holds build/.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) {
      try {
        return { addon: createRequire(import.meta.url)(candidate) as NativeAddon, why: candidate };
      } catch (error) {
        return { why: `cannot load ${candidate}: ${String(error)}` };
      }
    }
    dir = dirname(dir);
  }
  return { why: `${ADDON} was not built (npm ci builds it with node-gyp)` };
}

const loaded = loadAddon();

/** The memory-map functions of the native addon, or undefined where it could not be loaded. */
export const fileMaps: FileMaps | undefined = loaded.addon;

/** Where the addon was loaded from, or why it was not. */
export const fileMapsStatus: string = loaded.why;

/** The native file lock, or undefined where the addon could not be loaded (or predates it). */
export const fileLocks: FileLocks | undefined =
  typeof loaded.addon?.lock === 'function' ? (loaded.addon as FileLocks) : undefined;

/** The native heap trim, or undefined where the addon could not be loaded (or predates it). */
export const heapTrim: HeapTrim | undefined =
  typeof loaded.addon?.trim === 'function' && typeof loaded.addon.mmapThreshold === 'function'
    ? (loaded.addon as HeapTrim)
    : undefined;

/** The native fd copy, or undefined where the addon could not be loaded (or predates it). */
export const socketFds: SocketFds | undefined =
  typeof loaded.addon?.dupFd === 'function' ? (loaded.addon as SocketFds) : undefined;

/**
 * The CPU's CRC32C instruction, or undefined where the addon could not be loaded, predates it,
 * or the CPU has none (the addon exports it only on x86-64 with SSE 4.2).
 */
export const hardwareCrc32c: HardwareCrc32c | undefined = loaded.addon?.crc32c;

/**
 * The checksum of a map's range by map id, or undefined where the addon could not be loaded,
 * predates it, or the CPU has no CRC32C instruction.
 */
export const mapCrc32c: MapCrc32c | undefined =
  typeof loaded.addon?.mapId === 'function' &&
  loaded.addon.crcWords instanceof Uint32Array &&
  typeof loaded.addon.crc32cMapped === 'function'
    ? (loaded.addon as MapCrc32c)
    : undefined;
