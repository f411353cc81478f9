// Owns the daemon's background save (BGSAVE): a hot backup of the store (`Store.backup`) to the
// server's backup directory, one at a time, replacing the previous backup (kept as
// `<backup-dir>.old` until the next one succeeds); and what INFO persistence and LASTSAVE report
// about it (in progress, how the last one ended, when the last good one finished). Main thread.

import type { Logger, Store } from '../index.js';

/** One server's background saves. */
export class BackgroundSave {
  private running: Promise<void> | undefined;
  private startedAt = 0;
  /** How the last background save ended (`ok` before the first, as Redis reports it). */
  lastStatus: 'ok' | 'err' = 'ok';
  /** When the last successful one finished (ms since the epoch; 0: none yet). */
  lastSavedAt = 0;
  /** How long the last one took, in whole seconds (-1: none yet). */
  lastSeconds = -1;

  /** Saves go to `dir`, copying at most `bytesPerSecond` (0: no limit); `store` is the server's store. */
  constructor(
    readonly dir: string,
    private readonly store: Pick<Store, 'backup'>,
    private readonly log: Logger,
    private readonly bytesPerSecond = 0,
  ) {}

  /** Whether one is running now. */
  get inProgress(): boolean {
    return this.running !== undefined;
  }

  /** Whole seconds the running one has taken so far (-1 if none is running). */
  currentSeconds(): number {
    return this.running !== undefined ? Math.floor((Date.now() - this.startedAt) / 1000) : -1;
  }

  /** Starts a background save; false (and nothing started) if one is already running. */
  start(): boolean {
    if (this.running !== undefined) return false;
    this.startedAt = Date.now();
    this.log.info({ dir: this.dir }, 'background save started');
    this.running = this.store
      .backup(this.dir, { replace: true, bytesPerSecond: this.bytesPerSecond })
      .then(
        (result) => {
          this.lastStatus = 'ok';
          this.lastSavedAt = Date.now();
          this.log.info(
            {
              dir: result.dir,
              sequence: result.sequence,
              files: result.files,
              seconds: result.seconds,
            },
            'background save finished',
          );
        },
        (error: unknown) => {
          this.lastStatus = 'err';
          this.log.error({ err: error, dir: this.dir }, 'background save failed');
        },
      )
      .finally(() => {
        this.lastSeconds = Math.floor((Date.now() - this.startedAt) / 1000);
        this.running = undefined;
      });
    return true;
  }

  /** Resolves once no background save is running (never rejects). */
  async settled(): Promise<void> {
    await this.running;
  }
}
