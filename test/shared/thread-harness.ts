// Test helper for cross-thread tests: writes a worker's ES module source to a temp file and
// queues every message a worker posts, so a test awaits them in order and never loses one that
// arrives before it starts listening. Synchronisation is by message, never by timer.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** File URL of a module in the built tree, for a worker's `import` (workers run plain JS). */
export function distUrl(relative: string): string {
  return new URL(`../../dist/${relative}`, import.meta.url).href;
}

/** A temp directory holding worker sources; `dispose` removes it. */
export class WorkerSources {
  private constructor(readonly dir: string) {}

  static async create(): Promise<WorkerSources> {
    return new WorkerSources(await mkdtemp(join(tmpdir(), 'kvd-threads-')));
  }

  /** Writes `source` as `<name>.mjs` and returns its path. */
  async write(name: string, source: string): Promise<string> {
    const path = join(this.dir, `${name}.mjs`);
    await writeFile(path, source);
    return path;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A started worker with an ordered inbox of its messages. */
export class TestWorker {
  readonly worker: Worker;
  private readonly inbox: unknown[] = [];
  private readonly waiting: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  readonly exited: Promise<number>;

  constructor(path: string, workerData: unknown) {
    this.worker = new Worker(path, { workerData });
    this.worker.on('message', (m: unknown) => {
      const w = this.waiting.shift();
      if (w) w.resolve(m);
      else this.inbox.push(m);
    });
    this.worker.on('error', (e: Error) => this.fail(e));
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code: number) => {
        this.fail(new Error(`worker exited (code ${code}) before posting the awaited message`));
        resolve(code);
      });
    });
  }

  /** The next message the worker posted (in order); rejects if it errors or exits first. */
  next(): Promise<unknown> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}

/**
 * Blocks this thread until `words[at]` differs from `seen` (a peer notifies after changing it).
 * The timeout only turns a hang into a failure; it is not what the test waits for.
 */
export function waitForChange(words: Int32Array, at: number, seen: number, what: string): void {
  const deadline = Date.now() + 30_000;
  while (Atomics.load(words, at) === seen) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    Atomics.wait(words, at, seen, 1_000);
  }
}
