// Owns the loading of kvd's native memory-map addon (src/native/kvd_mmap.c, built by node-gyp
// into build/Release) and its typed surface. When the addon is missing (not built, or a
// platform without a compiler), `fileMaps` is undefined and readers use pread instead.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's two functions. */
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

const ADDON = join('build', 'Release', 'kvd_mmap.node');

function loadFileMaps(): { maps?: FileMaps; why: string } {
  // From dist/shared (or dist-bench/src/shared) up to the package root that holds build/.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) {
      try {
        return { maps: createRequire(import.meta.url)(candidate) as FileMaps, why: candidate };
      } catch (error) {
        return { why: `cannot load ${candidate}: ${String(error)}` };
      }
    }
    dir = dirname(dir);
  }
  return { why: `${ADDON} was not built (npm ci builds it with node-gyp)` };
}

const loaded = loadFileMaps();

/** The memory-map addon, or undefined where it could not be loaded. */
export const fileMaps: FileMaps | undefined = loaded.maps;

/** Where the addon was loaded from, or why it was not. */
export const fileMapsStatus: string = loaded.why;
