// Owns glob-style key patterns (SCAN MATCH, KEYS) with the rules of Redis's stringmatchlen, on
// bytes: `*`, `?`, `[abc]`, `[^abc]`, `[a-z]`, and `\` to escape the next byte; and a pattern's
// literal prefix, which every key it matches starts with (where KEYS and SCAN seek to).

import { Buffer } from 'node:buffer';

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;

/** Whether `text` matches the glob `pattern`. Pure; linear-ish (no exponential backtracking). */
export function globMatch(pattern: Uint8Array, text: Uint8Array): boolean {
  return match(pattern, 0, text, 0, { giveUp: false });
}

/**
 * The bytes every key matching `pattern` starts with: the pattern up to its first unescaped
 * `*`, `?` or `[`, with each `\` escape resolved to the byte it escapes (a `\` that ends the
 * pattern stands for itself, as in stringmatchlen). Empty when the pattern starts with a
 * metachar. Pure; returns a new Buffer.
 */
export function globLiteralPrefix(pattern: Uint8Array): Buffer {
  const prefix: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === STAR || c === QUESTION || c === OPEN) break;
    if (c === BACKSLASH && i + 1 < pattern.length) i++;
    prefix.push(pattern[i]!);
  }
  return Buffer.from(prefix);
}

/** `giveUp` is Redis's skipLongerMatches: once a `*` fails at every position, outer ones fail too. */
function match(
  p: Uint8Array,
  pi: number,
  s: Uint8Array,
  si: number,
  state: { giveUp: boolean },
): boolean {
  while (pi < p.length && si < s.length) {
    const c = p[pi]!;
    if (c === STAR) {
      while (pi + 1 < p.length && p[pi + 1] === STAR) pi++;
      if (pi + 1 === p.length) return true;
      for (; si < s.length; si++) {
        if (match(p, pi + 1, s, si, state)) return true;
        if (state.giveUp) return false;
      }
      state.giveUp = true;
      return false;
    }
    if (c === QUESTION) {
      si++;
    } else if (c === OPEN) {
      pi++;
      const negate = p[pi] === CARET;
      if (negate) pi++;
      let matched = false;
      for (;;) {
        if (pi >= p.length) {
          pi--; // an unterminated class ends the pattern
          break;
        }
        if (p[pi] === BACKSLASH && pi + 1 < p.length) {
          pi++;
          if (p[pi] === s[si]) matched = true;
        } else if (p[pi] === CLOSE) {
          break;
        } else if (pi + 2 < p.length && p[pi + 1] === DASH) {
          let start = p[pi]!;
          let end = p[pi + 2]!;
          if (start > end) [start, end] = [end, start];
          if (s[si]! >= start && s[si]! <= end) matched = true;
          pi += 2;
        } else if (p[pi] === s[si]) {
          matched = true;
        }
        pi++;
      }
      if (negate) matched = !matched;
      if (!matched) return false;
      si++;
    } else {
      if (c === BACKSLASH && pi + 1 < p.length) pi++;
      if (p[pi] !== s[si]) return false;
      si++;
    }
    pi++;
  }
  // Trailing stars match the empty rest (Redis special-cases a lone `*` the same way).
  if (si === s.length) while (pi < p.length && p[pi] === STAR) pi++;
  return pi >= p.length && si === s.length;
}
