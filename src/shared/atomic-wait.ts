// Owns waiting, without blocking the thread, for a shared counter to reach zero: the writer
// waits so for segment pins (keys() calls) and held snapshots before it retires merged inputs.
// The side that brings the counter to zero calls `notifyZero`.

/**
 * Resolves true once `words[at]` is 0, or false if it is still not after `timeoutMs`
 * (Infinity: no limit). Sleeps with `Atomics.waitAsync` between changes: no polling.
 */
export async function untilZero(
  words: Int32Array,
  at: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const seen = Atomics.load(words, at);
    if (seen === 0) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const waited = Atomics.waitAsync(words, at, seen, Number.isFinite(left) ? left : undefined);
    if (waited.async) await waited.value;
  }
}

/** Decrements `words[at]`; wakes `untilZero` waiters when it reaches 0. */
export function decrementAndNotify(words: Int32Array, at: number): void {
  if (Atomics.sub(words, at, 1) === 1) Atomics.notify(words, at);
}
