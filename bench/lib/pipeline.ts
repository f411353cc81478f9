// Owns the load loop shared by the async loaders: issue a chunk of writes in one tick, keep a
// few chunks outstanding, wait for the rest at the end.

/** Writes per chunk (one tick) for async loaders. */
export const CHUNK = 1024;
/** Chunks kept outstanding: CHUNK × DEPTH writes in flight at most. */
export const DEPTH = 4;

/**
 * Calls `issue(from, to)` for consecutive chunks of [0, count), keeping at most `depth`
 * chunk promises outstanding. Rejects with the first failure.
 */
export async function pipeline(
  count: number,
  issue: (from: number, to: number) => Promise<unknown>,
  chunk = CHUNK,
  depth = DEPTH,
): Promise<void> {
  const outstanding: Promise<unknown>[] = [];
  for (let from = 0; from < count; from += chunk) {
    outstanding.push(issue(from, Math.min(count, from + chunk)));
    if (outstanding.length >= depth) await outstanding.shift();
  }
  await Promise.all(outstanding);
}
