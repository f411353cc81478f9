// Owns the run's scratch space: one mkdtemp directory under os.tmpdir(), removed at the end
// of the run, on Ctrl-C and on a crash.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class TempDirs {
  readonly root: string;
  private count = 0;
  private readonly onSignal = (): void => {
    this.removeAll();
    process.exit(130);
  };

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'kvd-bench-'));
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** A new empty directory named after `label`. */
  dir(label: string): string {
    const path = join(this.root, `${++this.count}-${label}`);
    mkdirSync(path);
    return path;
  }

  /** Removes one directory made by `dir` (its engine must be closed). */
  remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
  }

  /** Removes everything. Idempotent. */
  removeAll(): void {
    rmSync(this.root, { recursive: true, force: true });
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
