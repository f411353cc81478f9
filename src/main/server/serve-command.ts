// Owns the `kvd serve` subcommand: its flags (each with an environment variable fallback), and
// the process around the daemon: start it, print one ready line, shut down on SIGTERM/SIGINT or
// SHUTDOWN, and set the exit code (0 after a clean stop, 1 if it cannot start or stop cleanly).

import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type Compression, type Durability, KvError, type ReadMode } from '../index.js';
import type { ReplicaBufferLimit } from './replication/replica-peer.js';
import type { MasterAddress } from './replication/replication-state.js';
import {
  integerIn,
  parseMasterAddress,
  parseNetworkThreads,
  parseReplicaBufferLimit,
} from './serve-flag-parsers.js';

/** The parsed flags of `kvd serve`. */
interface ServeFlags {
  readonly dir: string;
  readonly port: number;
  readonly host: string;
  readonly tcp: boolean;
  readonly unix?: string;
  readonly durability: Durability;
  readonly requirepass?: string;
  readonly readers?: number;
  readonly networkThreads: number | 'auto';
  readonly readMode?: ReadMode;
  readonly maxClients: number;
  readonly idleTimeout: number;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly maxKeyBytes?: number;
  readonly maxValueBytes?: number;
  readonly maxBulkBytes?: number;
  readonly compression: Compression;
  readonly compressionLevel?: number;
  readonly backupDir?: string;
  readonly backupBytesPerSecond?: number;
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  readonly replicaof?: MasterAddress;
  readonly masterauth?: string;
  readonly masteruser?: string;
  readonly replBacklogSize?: number;
  readonly minReplicasToWrite?: number;
  readonly minReplicasMaxLag?: number;
  readonly replPingReplicaPeriod?: number;
  readonly replicaOutputBufferLimit?: ReplicaBufferLimit;
  readonly replicaAnnounceIp?: string;
  readonly replicaAnnouncePort?: number;
}

const DURABILITIES: readonly Durability[] = ['always', 'everysec', 'no'];
const READ_MODES: readonly ReadMode[] = ['mmap', 'pread'];
const COMPRESSIONS: readonly Compression[] = ['none', 'lz4', 'zstd'];

/**
 * Registers `kvd serve` on `program`. Main thread. The action never throws: failures go to
 * stderr as `kvd serve: CODE: message` with exit code 1.
 */
export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .summary('run the Redis-protocol daemon (RESP2/RESP3 over TCP, TLS or a Unix socket)')
    .description(
      'Serves a store over the Redis protocol, so redis-cli and Redis client libraries work ' +
        'with it. Prints one line on stdout when ready; logs JSON lines to stderr ' +
        '(KVD_LOG_LEVEL). SIGTERM, SIGINT or the SHUTDOWN command stop it gracefully: ' +
        'requests in flight are answered and the store is flushed and fsynced.',
    )
    .addOption(new Option('-d, --dir <path>', 'store directory').env('KVD_DIR').default('./data'))
    .addOption(
      new Option('-p, --port <port>', 'TCP port (0: a free port)')
        .env('KVD_PORT')
        .default(6380)
        .argParser(integerIn('port', 0, 65_535)),
    )
    .addOption(
      new Option('--host <address>', 'TCP address to listen on')
        .env('KVD_HOST')
        .default('127.0.0.1'),
    )
    .option('--no-tcp', 'do not listen on TCP (use with --unix)')
    .addOption(new Option('--unix <path>', 'also listen on this Unix socket').env('KVD_UNIX'))
    .addOption(
      new Option('--durability <mode>', 'when writes reach the disk')
        .choices(DURABILITIES)
        .env('KVD_DURABILITY')
        .default('everysec'),
    )
    .addOption(
      new Option(
        '--requirepass <password>',
        'clients must AUTH with this password (prefer the environment variable: argv is public)',
      ).env('KVD_REQUIREPASS'),
    )
    .addOption(
      new Option(
        '--network-threads <n>',
        'threads serving clients, the main one included: others answer GETs and a few other reads (TLS clients stay on the main one); auto: one per CPU core, at most 4',
      )
        .env('KVD_NETWORK_THREADS')
        .default('auto')
        .argParser(parseNetworkThreads(16)),
    )
    .addOption(
      new Option('--readers <n>', 'reader threads (default: CPU count)')
        .env('KVD_READERS')
        .argParser(integerIn('readers', 1, 256)),
    )
    .addOption(
      new Option(
        '--read-mode <mode>',
        'read records from memory maps or with pread (default: mmap if built)',
      )
        .choices(READ_MODES)
        .env('KVD_READ_MODE'),
    )
    .addOption(
      new Option('--max-clients <n>', 'most clients connected at once')
        .env('KVD_MAX_CLIENTS')
        .default(10_000)
        .argParser(integerIn('max-clients', 1, 1_000_000)),
    )
    .addOption(
      new Option('--idle-timeout <seconds>', 'close clients idle this long (0: never)')
        .env('KVD_IDLE_TIMEOUT')
        .default(0)
        .argParser(integerIn('idle-timeout', 0, 31_536_000)),
    )
    .addOption(
      new Option('--tls-cert <file>', 'PEM certificate: TCP clients must use TLS').env(
        'KVD_TLS_CERT',
      ),
    )
    .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('KVD_TLS_KEY'))
    .addOption(
      new Option('--max-key-bytes <n>', 'largest key (default 64 KiB)')
        .env('KVD_MAX_KEY_BYTES')
        .argParser(integerIn('max-key-bytes', 0, 16 * 1024 * 1024)),
    )
    .addOption(
      new Option('--max-value-bytes <n>', 'largest value (default 16 MiB)')
        .env('KVD_MAX_VALUE_BYTES')
        .argParser(integerIn('max-value-bytes', 0, 1024 * 1024 * 1024)),
    )
    .addOption(
      new Option(
        '--max-bulk-bytes <n>',
        'largest argument in a request; a larger one is a protocol error ' +
          '(default: the larger of --max-key-bytes and --max-value-bytes, plus 1 MiB)',
      )
        .env('KVD_MAX_BULK_BYTES')
        .argParser(integerIn('max-bulk-bytes', 1, 1024 * 1024 * 1024)),
    )
    .addOption(
      new Option('--compression <codec>', 'how sorted-segment blocks (key runs) are compressed')
        .choices(COMPRESSIONS)
        .env('KVD_COMPRESSION')
        .default('none'),
    )
    .addOption(
      new Option('--compression-level <n>', 'zstd level (default 3; only with --compression zstd)')
        .env('KVD_COMPRESSION_LEVEL')
        .argParser(integerIn('compression-level', 1, 22)),
    )
    .addOption(
      new Option(
        '--backup-dir <path>',
        'where BGSAVE writes its backup; the previous one is kept as <path>.old (default: <dir>.backup)',
      ).env('KVD_BACKUP_DIR'),
    )
    .addOption(
      new Option(
        '--backup-bytes-per-second <n>',
        'bytes a second BGSAVE copies at most (hard links are not paced; default 0: no limit)',
      )
        .env('KVD_BACKUP_BYTES_PER_SECOND')
        .argParser(integerIn('backup-bytes-per-second', 0, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option(
        '--metrics-port <port>',
        'serve Prometheus metrics over HTTP at /metrics on this port (0: a free port; default: none)',
      )
        .env('KVD_METRICS_PORT')
        .argParser(integerIn('metrics-port', 0, 65_535)),
    )
    .addOption(
      new Option(
        '--metrics-host <address>',
        'address of the metrics listener (default: the --host address)',
      ).env('KVD_METRICS_HOST'),
    )
    .addOption(
      new Option(
        '--replicaof <host:port>',
        'start as a replica of this master (redis-server or kvd); REPLICAOF changes it at runtime',
      )
        .env('KVD_REPLICAOF')
        .argParser(parseMasterAddress),
    )
    .addOption(
      new Option('--masterauth <password>', 'the password the master asks replicas for').env(
        'KVD_MASTERAUTH',
      ),
    )
    .addOption(
      new Option(
        '--masteruser <name>',
        'the ACL user to authenticate as with --masterauth (a Redis 6+ master with ACL users)',
      ).env('KVD_MASTERUSER'),
    )
    .addOption(
      new Option(
        '--repl-backlog-size <bytes>',
        'bytes of replication stream kept for partial resyncs (default 1 MiB)',
      )
        .env('KVD_REPL_BACKLOG_SIZE')
        .argParser(integerIn('repl-backlog-size', 16 * 1024, 2 ** 32)),
    )
    .addOption(
      new Option(
        '--min-replicas-to-write <n>',
        'refuse writes (NOREPLICAS) unless this many replicas acknowledged within --min-replicas-max-lag (default 0: never)',
      )
        .env('KVD_MIN_REPLICAS_TO_WRITE')
        .argParser(integerIn('min-replicas-to-write', 0, 1_000)),
    )
    .addOption(
      new Option(
        '--min-replicas-max-lag <s>',
        'seconds since its last ACK within which a replica counts for --min-replicas-to-write (default 10)',
      )
        .env('KVD_MIN_REPLICAS_MAX_LAG')
        .argParser(integerIn('min-replicas-max-lag', 1, 86_400)),
    )
    .addOption(
      new Option(
        '--repl-ping-replica-period <s>',
        'seconds between the PINGs a master sends its replicas (default 10)',
      )
        .env('KVD_REPL_PING_REPLICA_PERIOD')
        .argParser(integerIn('repl-ping-replica-period', 1, 3_600)),
    )
    .addOption(
      new Option(
        '--replica-output-buffer-limit <hard[:soft:seconds]>',
        'drop a replica that leaves this much stream unsent (bytes, or with kb/mb/gb), or more than soft for seconds (default 256mb:64mb:60; 0 turns a limit off)',
      )
        .env('KVD_REPLICA_OUTPUT_BUFFER_LIMIT')
        .argParser(parseReplicaBufferLimit),
    )
    .addOption(
      new Option(
        '--replica-announce-ip <ip>',
        "as a replica, the address to announce to the master (and so to Sentinel) instead of the connection's",
      ).env('KVD_REPLICA_ANNOUNCE_IP'),
    )
    .addOption(
      new Option(
        '--replica-announce-port <port>',
        'as a replica, the port to announce to the master instead of the one it listens on',
      )
        .env('KVD_REPLICA_ANNOUNCE_PORT')
        .argParser(integerIn('replica-announce-port', 1, 65_535)),
    )
    .action(async (flags: ServeFlags) => {
      process.exitCode = await serveMain(flags);
    });
}

/**
 * Blocks from this size on are mapped on their own by the C library (a busy turn's write
 * buffer, large replies and bulk strings), so freeing one gives its pages back at once: bench
 * scenario "redis" measured 246 → 187 B of anonymous memory per key loaded with it and the idle
 * trim, against 225 with the trim alone (12-03). It sits above 64 KiB because Node allocates a
 * 64 KiB buffer for every socket read (and shrinks it to what was read): at 64 KiB each such
 * read cost an mmap, its page faults and an munmap, and SET / GET −P16 ran at 148k / 192k
 * requests/s against 211k / 324k at 128 KiB, with 28 and 29 B a key (12-05, bench/ANALYSIS.md).
 */
const MMAP_THRESHOLD_BYTES = 128 * 1024;

async function serveMain(flags: ServeFlags): Promise<number> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    return fail('BAD_FLAGS', '--tls-cert and --tls-key go together');
  }
  if (!flags.tcp && flags.unix === undefined) {
    return fail('BAD_FLAGS', '--no-tcp needs --unix');
  }
  if (flags.metricsHost !== undefined && flags.metricsPort === undefined) {
    return fail('BAD_FLAGS', '--metrics-host needs --metrics-port');
  }
  // Imported here so that loggers, which read KVD_LOG_LEVEL at creation, see the environment.
  const { startServer } = await import('./server.js');
  // This process is the daemon's own: big freed blocks go back to the system at once instead of
  // staying in glibc's arenas (idle-trim.ts gives the rest back when idle).
  const { heapTrim } = await import('../../shared/file-map.js');
  heapTrim?.mmapThreshold(MMAP_THRESHOLD_BYTES);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      dir: flags.dir,
      host: flags.host,
      port: flags.tcp ? flags.port : false,
      unixPath: flags.unix,
      tls:
        flags.tlsCert !== undefined && flags.tlsKey !== undefined
          ? { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) }
          : undefined,
      requirepass: flags.requirepass,
      maxClients: flags.maxClients,
      idleTimeoutSeconds: flags.idleTimeout,
      networkThreads: flags.networkThreads,
      limits: flags.maxBulkBytes === undefined ? undefined : { maxBulkBytes: flags.maxBulkBytes },
      backupDir: flags.backupDir,
      backupBytesPerSecond: flags.backupBytesPerSecond,
      replicaOf: flags.replicaof,
      masterAuth: flags.masterauth,
      masterUser: flags.masteruser,
      replication: {
        backlogBytes: flags.replBacklogSize,
        minReplicasToWrite: flags.minReplicasToWrite,
        minReplicasMaxLag: flags.minReplicasMaxLag,
        pingPeriodSeconds: flags.replPingReplicaPeriod,
        replicaBufferLimit: flags.replicaOutputBufferLimit,
        announceIp: flags.replicaAnnounceIp,
        announcePort: flags.replicaAnnouncePort,
      },
      metrics:
        flags.metricsPort === undefined
          ? undefined
          : { port: flags.metricsPort, host: flags.metricsHost ?? flags.host },
      store: {
        durability: flags.durability,
        readers: flags.readers,
        readMode: flags.readMode,
        maxKeyBytes: flags.maxKeyBytes,
        maxValueBytes: flags.maxValueBytes,
        compression: flags.compression,
        compressionLevel: flags.compressionLevel,
      },
      logger: true, // the daemon and its store log JSON lines on stderr (KVD_LOG_LEVEL)
    });
  } catch (cause) {
    return fail(codeOf(cause), `cannot start on ${flags.dir}: ${messageOf(cause)}`);
  }
  const stop = (): void => {
    server.close().catch(() => {});
  };
  // Before the ready line: a supervisor may signal as soon as it reads it.
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const where = [
    server.port === undefined ? undefined : `${server.host}:${server.port}`,
    server.unixPath === undefined ? undefined : `unix:${server.unixPath}`,
  ].filter((w) => w !== undefined);
  const metrics = server.metrics === undefined ? '' : `; metrics at ${server.metrics.url}`;
  process.stdout.write(`kvd serving ${server.store.dir} on ${where.join(' and ')}${metrics}\n`);
  try {
    await server.closed;
    return 0;
  } catch (cause) {
    return fail(codeOf(cause), `stopped with an error: ${messageOf(cause)}`);
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

function codeOf(cause: unknown): string {
  if (cause instanceof KvError) return cause.code;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'KV_INTERNAL';
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function fail(code: string, message: string): number {
  process.stderr.write(`kvd serve: ${code}: ${message}\n`);
  return 1;
}
