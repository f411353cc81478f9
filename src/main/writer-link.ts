// Owns the caller's connection to the writer worker: starting the thread, the comlink proxy,
// the writes sent beside it (WriteRequestMessage), turning the thread's death into rejected
// calls and writes (comlink alone would leave them pending), its log lines, and holding the
// process open only while a call or write to it is pending.

import { Worker } from 'node:worker_threads';
import { type Remote, transfer, wrap } from 'comlink';
import { nodeEndpoint } from '../shared/comlink-endpoint.js';
import type {
  CompactionPolicy,
  InstallOutcome,
  MergePlan,
  MergeResult,
  UnhintedSegment,
} from '../shared/compaction-messages.js';
import { deserializeError, KvError } from '../shared/errors.js';
import { logForwardedLine } from '../shared/log-forwarding.js';
import type { Logger } from '../shared/logger.js';
import type {
  BackupCopied,
  BackupRequest,
  Durability,
  RecoveryProgressMessage,
  ValueReply,
  VoidReply,
  WriteAnswerMessage,
  WriteReply,
  WriteRequestMessage,
  WriterApi,
  WriterConfig,
  WriterFeedMessage,
  WriterInit,
  WriterLogging,
  WriterLogMessage,
  WriterOpened,
  WriterStats,
} from '../shared/messages.js';
import { threadExecArgv } from './thread-exec-argv.js';

/**
 * The caller's handle on the writer thread. Caller's thread only. Every call rejects with
 * `KV_INTERNAL` once the thread has died, and with the writer's `KvError` otherwise. The thread
 * keeps the process alive only while a call is pending, so that an idle store lets it exit and
 * a write issued without waiting is still applied before it does.
 */
export class WriterLink {
  private readonly thread: Worker;
  private readonly remote: Remote<WriterApi>;
  private death: KvError | undefined;
  /**
   * The calls in flight, by their reject functions: the thread's death rejects them all (the
   * calls themselves would stay pending). A set, not a race against one never-settling
   * promise, which would keep a reaction per call alive for the store's lifetime.
   */
  private readonly inFlight = new Set<(error: KvError) => void>();
  private stopping = false;
  private onRecoveryProgress: ((done: number, total: number) => void) | undefined;
  /** Hears the change feed's records (WriterApi.setFeed), in log order. */
  onFeed: ((records: Uint8Array) => void) | undefined;
  /** Writes sent and not yet answered, by their ids (WriteRequestMessage). */
  private readonly writes = new Map<number, PendingWrite>();
  private lastWriteId = 0;
  /** Calls and writes sent and not yet settled; the thread is ref'd while there is one. */
  private pending = 0;
  private readonly settle = (): void => {
    if (--this.pending === 0) this.thread.unref();
  };

  /**
   * Starts the writer thread, which does with its log lines what `logging` says (`caller`: they
   * go to `logger`). `onDeath` runs once if it dies before `terminate()`.
   */
  constructor(onDeath: (error: KvError) => void, logging: WriterLogging, logger: Logger) {
    const init: WriterInit = { logging };
    this.thread = new Worker(new URL('../workers/writer.js', import.meta.url), {
      workerData: init,
      execArgv: threadExecArgv(),
    });
    this.remote = wrap<WriterApi>(
      nodeEndpoint(this.thread as unknown as Parameters<typeof nodeEndpoint>[0]),
    );
    const die = (error: KvError) => {
      if (this.death || this.stopping) return;
      this.death = error;
      for (const reject of [...this.inFlight]) reject(error);
      for (const write of this.writes.values()) {
        this.settle();
        write.reject(error);
      }
      this.writes.clear();
      onDeath(error);
    };
    this.thread.on('error', (error) =>
      die(new KvError('KV_INTERNAL', `writer thread crashed: ${error.message}`)),
    );
    this.thread.on('exit', (code) =>
      die(new KvError('KV_INTERNAL', `writer thread exited (code ${code})`)),
    );
    // Write answers, progress reports and log lines travel outside comlink (which ignores
    // messages without its ids).
    this.thread.on(
      'message',
      (
        message: Partial<
          RecoveryProgressMessage & WriterLogMessage & WriterFeedMessage & WriteAnswerMessage
        > | null,
      ) => {
        if (message?.kvdWritten !== undefined) {
          this.answered(message as WriteAnswerMessage);
          return;
        }
        const feed = message?.kvdFeed;
        if (feed) this.onFeed?.(feed);
        const p = message?.kvdRecoveryProgress;
        if (p) this.onRecoveryProgress?.(p.done, p.total);
        const line = message?.kvdLog;
        if (line) logForwardedLine(logger, line);
      },
    );
    // Idle until the first call; after the listeners, since adding a 'message' listener refs a
    // Worker again.
    this.thread.unref();
  }

  /**
   * Opens the store in the writer (runs recovery; `onProgress` hears its progress in bytes).
   * Throws the writer's `KvError`.
   */
  async open(
    config: WriterConfig,
    onProgress?: (done: number, total: number) => void,
  ): Promise<WriterOpened> {
    this.onRecoveryProgress = onProgress;
    try {
      return unwrap(await this.call(this.remote.open(config) as Promise<ValueReply<WriterOpened>>));
    } finally {
      this.onRecoveryProgress = undefined;
    }
  }

  /**
   * Sends one buffer of records (transferred, not copied) as a `WriteRequestMessage`; see
   * WriterApi.write. Rejects with `KV_INTERNAL` once the thread has died.
   */
  write(records: ArrayBuffer, length: number): Promise<WriteReply> {
    if (this.death) return Promise.reject(this.death);
    const id = ++this.lastWriteId;
    const request: WriteRequestMessage = { kvdWrite: id, records, length };
    return new Promise<WriteReply>((resolve, reject) => {
      this.writes.set(id, new PendingWrite(resolve, reject));
      if (this.pending++ === 0) this.thread.ref();
      this.thread.postMessage(request, [records]);
    });
  }

  /** Settles the write a `WriteAnswerMessage` answers. */
  private answered(answer: WriteAnswerMessage): void {
    const write = this.writes.get(answer.kvdWritten);
    if (!write) return;
    this.writes.delete(answer.kvdWritten);
    this.settle();
    write.resolve(answer.reply);
  }

  async sync(): Promise<void> {
    unwrapVoid(await this.call(this.remote.sync() as Promise<VoidReply>));
  }

  async stats(): Promise<WriterStats> {
    return unwrap(await this.call(this.remote.stats() as Promise<ValueReply<WriterStats>>));
  }

  /** A point-in-time copy of every live key's location (see WriterApi.snapshot). */
  async snapshot(): Promise<Uint32Array> {
    return unwrap(await this.call(this.remote.snapshot() as Promise<ValueReply<Uint32Array>>));
  }

  /** Up to `count` random live keys' locations (see WriterApi.sample). */
  async sample(count: number): Promise<Uint32Array> {
    return unwrap(await this.call(this.remote.sample(count) as Promise<ValueReply<Uint32Array>>));
  }

  /** Syncs the log and writes the index snapshot now; resolves with when (ms since the epoch). */
  async checkpoint(): Promise<number> {
    return unwrap(await this.call(this.remote.checkpoint() as Promise<ValueReply<number>>));
  }

  /**
   * Turns the change feed on (resolves with the sequence number of the last record before it;
   * every later one reaches `onFeed`) or off. Throws the writer's `KvError`.
   */
  async setFeed(on: boolean): Promise<number> {
    return unwrap(await this.call(this.remote.setFeed(on) as Promise<ValueReply<number>>));
  }

  /** Changes the durability mode from the next append on. */
  async setDurability(durability: Durability): Promise<void> {
    unwrapVoid(await this.call(this.remote.setDurability(durability) as Promise<VoidReply>));
  }

  /** Plans the next merge, or null (see WriterApi.planCompaction). */
  async planCompaction(
    all: boolean,
    after: number,
    upTo: number,
    policy: CompactionPolicy,
  ): Promise<MergePlan | null> {
    return unwrap(
      await this.call(
        this.remote.planCompaction(all, after, upTo, policy) as Promise<
          ValueReply<MergePlan | null>
        >,
      ),
    );
  }

  /** Installs a finished merge (the moves are transferred, not copied). */
  async installCompaction(plan: MergePlan, result: MergeResult): Promise<InstallOutcome> {
    return unwrap(
      await this.call(
        this.remote.installCompaction(
          plan,
          transfer(result, [result.moves.buffer as ArrayBuffer]),
        ) as Promise<ValueReply<InstallOutcome>>,
      ),
    );
  }

  async abandonCompaction(plan: MergePlan): Promise<void> {
    unwrapVoid(await this.call(this.remote.abandonCompaction(plan) as Promise<VoidReply>));
  }

  async unhintedSegments(): Promise<UnhintedSegment[]> {
    return unwrap(
      await this.call(this.remote.unhintedSegments() as Promise<ValueReply<UnhintedSegment[]>>),
    );
  }

  async hintWritten(id: number): Promise<void> {
    unwrapVoid(await this.call(this.remote.hintWritten(id) as Promise<VoidReply>));
  }

  /** Captures a hot backup into `request.staging` and copies it (see WriterApi.backup). */
  async backup(request: BackupRequest): Promise<BackupCopied> {
    return unwrap(
      await this.call(this.remote.backup(request) as Promise<ValueReply<BackupCopied>>),
    );
  }

  /** Closes the store in the writer: flush, sync, close files. */
  async close(): Promise<void> {
    unwrapVoid(await this.call(this.remote.close() as Promise<VoidReply>));
  }

  /** Stops the thread (after `close`, or to abandon it). */
  async terminate(): Promise<void> {
    this.stopping = true;
    this.thread.ref(); // until it has stopped: the caller is waiting
    await this.thread.terminate();
  }

  private call<T>(rpc: Promise<T>): Promise<T> {
    if (this.death) return Promise.reject(this.death);
    if (this.pending++ === 0) this.thread.ref();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const done = () => {
        if (settled) return false;
        settled = true;
        this.inFlight.delete(fail);
        this.settle();
        return true;
      };
      const fail = (error: unknown) => {
        if (done()) reject(error);
      };
      this.inFlight.add(fail);
      rpc.then((value) => {
        if (done()) resolve(value);
      }, fail);
    });
  }
}

/** One write sent to the writer and not yet answered. */
class PendingWrite {
  constructor(
    readonly resolve: (reply: WriteReply) => void,
    readonly reject: (error: KvError) => void,
  ) {}
}

function unwrap<T>(reply: ValueReply<T>): T {
  if (!reply.ok) throw deserializeError(reply.error);
  return reply.value;
}

function unwrapVoid(reply: VoidReply): void {
  if (!reply.ok) throw deserializeError(reply.error);
}
