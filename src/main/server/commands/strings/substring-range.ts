// Owns which bytes GETRANGE (and SUBSTR) answers for a start and an end, as Redis 7.2 computes
// them. Pure, with no imports, so a network thread (src/workers/thread-commands.ts) answers
// GETRANGE with the main thread's very rule.

/**
 * The inclusive byte range [first, last] of a `length`-byte value that Redis 7.2's GETRANGE
 * answers for `start` and `end`, or undefined for an empty answer. Pure.
 */
export function substringRange(
  length: number,
  start: bigint,
  end: bigint,
): readonly [first: number, last: number] | undefined {
  if (start < 0n && end < 0n && start > end) return undefined;
  const n = BigInt(length);
  let first = start < 0n ? n + start : start;
  let last = end < 0n ? n + end : end;
  if (first < 0n) first = 0n;
  if (last < 0n) last = 0n;
  if (last >= n) last = n - 1n;
  if (length === 0 || first > last) return undefined;
  return [Number(first), Number(last)];
}
