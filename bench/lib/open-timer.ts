// Owns timing database opens: one untimed open/close, then timed opens, each checked (untimed)
// for a present key before its close. Used by the reopen-modes scenario.

/** A database just opened: how to read one key, check more, and close it. */
export interface Opened {
  readonly get: (key: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** Further checks after the open (not timed); throw to fail the scenario. */
  readonly check?: () => Promise<void> | void;
  readonly close: () => Promise<unknown> | unknown;
}

export interface OpenTiming {
  /** Timed opens (after the untimed first one). */
  readonly rounds: number;
  /** A present key, and the length of its value. */
  readonly probe: string;
  readonly valueBytes: number;
  /** Runs before every open (the untimed one too), untimed: e.g. deleting files. */
  readonly prepare?: () => void;
}

/** Opens `rounds` + 1 times, closing each; resolves with the timed opens' durations in ms. */
export async function timeOpens(
  timing: OpenTiming,
  open: () => Promise<Opened>,
): Promise<number[]> {
  const ms: number[] = [];
  for (let round = 0; round <= timing.rounds; round++) {
    timing.prepare?.();
    const start = performance.now();
    const db = await open();
    const elapsed = performance.now() - start;
    try {
      const value = await db.get(timing.probe);
      if (value?.length !== timing.valueBytes)
        throw new Error(`reopened database lacks ${timing.probe}`);
      await db.check?.();
    } finally {
      await db.close();
    }
    if (round > 0) ms.push(elapsed);
  }
  return ms;
}
