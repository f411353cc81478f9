// Tests for releaseBuffer (src/workers/release-buffer.ts): the buffer is detached at once, its
// memory leaves the process without a garbage collection, and what it must not touch (a shared
// buffer, a buffer already detached) is left alone.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { releaseBuffer } from '../../dist/workers/release-buffer.js';
import { pollUntil } from '../fixtures/poll.js';

const MIB = 1024 * 1024;

/** This process's anonymous memory, bytes (vitest runs each test file in its own process). */
function anonymousBytes(): number {
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  return Number(/^Anonymous:\s+(\d+) kB/m.exec(rollup)![1]) * 1024;
}

describe('releaseBuffer', () => {
  it('detaches the buffer: it and every view of it become empty', () => {
    const buffer = new ArrayBuffer(64);
    const view = new Uint32Array(buffer, 8, 4);
    releaseBuffer(buffer);
    expect(buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
  });

  it('gives the memory back while the caller still references the buffer (no garbage collection can)', async () => {
    const buffer = new ArrayBuffer(64 * MIB);
    new Uint8Array(buffer).fill(1);
    const held = anonymousBytes();
    releaseBuffer(buffer);
    await pollUntil(
      '48 MiB of the 64 MiB buffer left the process',
      () => held - anonymousBytes() >= 48 * MIB,
      5_000,
    );
    expect(buffer.byteLength).toBe(0);
  });

  it('leaves a SharedArrayBuffer and an already detached buffer alone', () => {
    const shared = new SharedArrayBuffer(16);
    releaseBuffer(shared);
    expect(shared.byteLength).toBe(16);
    const buffer = new ArrayBuffer(16);
    releaseBuffer(buffer);
    expect(() => releaseBuffer(buffer)).not.toThrow();
    expect(buffer.byteLength).toBe(0);
  });
});
