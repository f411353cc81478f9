// Owns the Atomics-based reader-writer lock used to stripe the shared index. One Int32 word per
// lock: the low 30 bits count readers inside, bit 30 says the writer holds or wants the lock.
// There is exactly one writing thread (the writer worker), so writers never race each other.

const WRITER = 0x4000_0000;
const READERS = 0x3fff_ffff;

/**
 * Takes a read lock on `words[at]`. Writer-preferring: once the writer has set its bit, new
 * readers back off and sleep until it clears, so a stream of readers cannot starve the writer.
 * Any thread may call it; it may block (Atomics.wait) while the writer holds the lock.
 */
export function lockRead(words: Int32Array, at: number): void {
  for (;;) {
    // Optimistically enter: one atomic add is the whole uncontended fast path.
    const before = Atomics.add(words, at, 1);
    if ((before & WRITER) === 0) return;
    // The writer holds or wants the lock: undo our entry (waking the writer if we were the last
    // reader it waits for), then sleep until the word changes.
    unlockRead(words, at);
    const seen = Atomics.load(words, at);
    if ((seen & WRITER) !== 0) Atomics.wait(words, at, seen, 50);
  }
}

/** Releases a read lock taken with `lockRead`. */
export function unlockRead(words: Int32Array, at: number): void {
  const before = Atomics.sub(words, at, 1);
  // Last reader out while the writer waits: wake it. The seq-cst sub orders our reads before this.
  if ((before & WRITER) !== 0 && (before & READERS) === 1) Atomics.notify(words, at);
}

/**
 * Takes the write lock on `words[at]`: announce ourselves (new readers now back off), then wait
 * for the readers already inside to leave. Only the writer worker thread may call it.
 */
export function lockWrite(words: Int32Array, at: number): void {
  Atomics.or(words, at, WRITER);
  for (;;) {
    const seen = Atomics.load(words, at);
    if ((seen & READERS) === 0) return;
    // Bounded wait: a reader's wake-up could race our load, so never sleep unboundedly.
    Atomics.wait(words, at, seen, 10);
  }
}

/** Releases the write lock and wakes readers sleeping on it. */
export function unlockWrite(words: Int32Array, at: number): void {
  Atomics.and(words, at, ~WRITER);
  Atomics.notify(words, at);
}
