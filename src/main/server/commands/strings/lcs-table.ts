// Owns LCS's algorithm: the longest common subsequence of two byte strings by dynamic programming
// over an (a+1)×(b+1) table of 32-bit lengths, and the walk back from the end that reads off the
// subsequence and its matching runs in the order Redis reports them (last run first).

import { Buffer } from 'node:buffer';

/** One run of consecutive matching bytes: inclusive ranges in each string, and its length. */
export interface LcsMatch {
  readonly aStart: number;
  readonly aEnd: number;
  readonly bStart: number;
  readonly bEnd: number;
  readonly length: number;
}

/** The longest common subsequence of two strings, its length, and its runs from last to first. */
export interface LcsResult {
  readonly length: number;
  readonly text: Buffer;
  readonly matches: readonly LcsMatch[];
}

/** Bytes of the table `longestCommonSubsequence` builds for strings of these lengths. */
export function lcsTableBytes(aLength: number, bLength: number): number {
  return (aLength + 1) * (bLength + 1) * Uint32Array.BYTES_PER_ELEMENT;
}

/**
 * The longest common subsequence of `a` and `b`. Walking back from the ends, a byte pair that
 * matches is taken; otherwise it steps back in `a` when that keeps a strictly longer subsequence,
 * else in `b` (Redis's choice, so the same subsequence and runs come out). Pure; O(a×b) time and
 * `lcsTableBytes` memory.
 */
export function longestCommonSubsequence(a: Uint8Array, b: Uint8Array): LcsResult {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    const row = i * width;
    const above = row - width;
    for (let j = 1; j <= b.length; j++) {
      table[row + j] =
        a[i - 1] === b[j - 1]
          ? table[above + j - 1]! + 1
          : Math.max(table[above + j]!, table[row + j - 1]!);
    }
  }
  const length = table[a.length * width + b.length]!;
  const text = Buffer.alloc(length);
  const matches: LcsMatch[] = [];
  let run: { aStart: number; aEnd: number; bStart: number; bEnd: number } | undefined;
  const closeRun = (): void => {
    if (run) matches.push({ ...run, length: run.aEnd - run.aStart + 1 });
    run = undefined;
  };
  let i = a.length;
  let j = b.length;
  let k = length;
  while (i > 0 && j > 0) {
    if (a[i - 1] === b[j - 1]) {
      text[--k] = a[i - 1]!;
      // A match right after a match extends the run backwards; after a step it starts a new one.
      if (run) {
        run.aStart = i - 1;
        run.bStart = j - 1;
      } else {
        run = { aStart: i - 1, aEnd: i - 1, bStart: j - 1, bEnd: j - 1 };
      }
      i--;
      j--;
      if (i === 0 || j === 0) closeRun();
    } else {
      if (table[(i - 1) * width + j]! > table[i * width + j - 1]!) i--;
      else j--;
      closeRun();
    }
  }
  return { length, text, matches };
}
