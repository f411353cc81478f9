// Owns the daemon's Prometheus metrics: a prom-client Registry of its own (never the global
// default one: kvd is also a library), each metric's name and help, and the scrape that fills
// them from one `Store.metrics()` call and the connections' per-command counters.

import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Store, StoreMetrics } from '../index.js';
import { BucketHistogram, type HistogramSeries } from './bucket-histogram.js';
import type { CommandStats } from './command-stats.js';
import type { ReplicationFigures } from './replication/replication-state.js';

/** What the metrics are read from. */
export interface MetricsSource {
  readonly store: Pick<Store, 'metrics'>;
  /** Per-command counters; `enableLatency()` must have been called. */
  readonly commandStats: CommandStats;
  /** Adds what other threads counted (the network threads' commands) to `commandStats`. */
  collectCounters?(): void;
  /** Clients connected now. */
  clientCount(): number;
  /** Replication's role, offset and replicas now. */
  replication(): ReplicationFigures;
}

/** The daemon's registry and how to read it. */
export interface DaemonMetrics {
  readonly registry: Registry;
  /**
   * The metrics in Prometheus's text format, as of now. Concurrent calls share one scrape.
   * Rejects like `Store.metrics()` (`KV_CLOSED` once the store has closed).
   */
  scrape(): Promise<string>;
}

/** Creates the registry over `source`, with Node's process metrics (`collectDefaultMetrics`). */
export function createDaemonMetrics(source: MetricsSource): DaemonMetrics {
  const registry = new Registry();
  const registers = [registry];
  // The store's figures of the scrape in progress (read by the collect callbacks below, which
  // the registry runs during the scrape).
  let store: StoreMetrics | undefined;
  const storeGauge = (name: string, help: string, read: (m: StoreMetrics) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect(this: Gauge) {
        if (store !== undefined) this.set(read(store));
      },
    });
  const storeCounter = (name: string, help: string, read: (m: StoreMetrics) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect(this: Counter) {
        this.reset();
        if (store !== undefined) this.inc(read(store));
      },
    });

  const stats = source.commandStats;
  const byCommand = (read: (c: { calls: number; errors: number }) => number) =>
    function (this: Counter<'cmd'>) {
      this.reset();
      for (const [cmd, counters] of stats.entries()) {
        const latency = counters.latency;
        if (latency !== undefined && latency.calls > 0) this.inc({ cmd }, read(latency));
      }
    };
  new Counter({
    name: 'kvd_commands_total',
    help: 'Requests answered, by command (lower-case name); refused ones (arity, NOAUTH) included',
    labelNames: ['cmd'],
    registers,
    collect: byCommand((c) => c.calls),
  });
  new Counter({
    name: 'kvd_command_errors_total',
    help: 'Requests answered with an error, by command; refused ones (arity, NOAUTH) included',
    labelNames: ['cmd'],
    registers,
    collect: byCommand((c) => c.errors),
  });
  new Counter({
    name: 'kvd_unknown_commands_total',
    help: 'Requests naming no known command',
    registers,
    collect(this: Counter) {
      this.reset();
      this.inc(stats.unknownCalls);
    },
  });
  new BucketHistogram(
    'kvd_command_duration_seconds',
    'Time from a command starting to its reply being ready, by command (refused ones not timed)',
    function* (): Generator<HistogramSeries> {
      for (const [cmd, counters] of stats.entries()) {
        const latency = counters.latency;
        if (latency !== undefined && latency.calls > 0) {
          yield { labels: { cmd }, distribution: latency.distribution() };
        }
      }
    },
  ).registerIn(registry);
  new Gauge({
    name: 'kvd_connected_clients',
    help: 'Clients connected now',
    registers,
    collect(this: Gauge) {
      this.set(source.clientCount());
    },
  });

  replicationMetrics(source, registers);
  storeGauge('kvd_keys', 'Live keys', (m) => m.keys);
  storeGauge('kvd_disk_bytes', 'Bytes of every segment file', (m) => m.diskBytes);
  storeGauge('kvd_live_bytes', 'Bytes of the records the index points at', (m) => m.liveBytes);
  storeCounter('kvd_compactions_total', 'Merges installed', (m) => m.compaction.runs);
  storeCounter(
    'kvd_compaction_read_bytes_total',
    'Bytes of the segments merges took as input',
    (m) => m.compaction.bytesRead,
  );
  storeCounter(
    'kvd_compaction_written_bytes_total',
    'Bytes of the merged segments merges wrote',
    (m) => m.compaction.bytesWritten,
  );
  new BucketHistogram(
    'kvd_fsync_duration_seconds',
    'Time each fdatasync of the active log segment took',
    () => (store === undefined ? [] : [{ labels: {}, distribution: store.fsync }]),
  ).registerIn(registry);
  storeGauge(
    'kvd_writer_queue_writes',
    'Writes queued or sent to the writer thread and not yet answered',
    (m) => m.writeQueue.writes,
  );
  storeGauge(
    'kvd_writer_queue_messages',
    'Messages sent to the writer thread and not yet answered',
    (m) => m.writeQueue.messages,
  );
  storeGauge(
    'kvd_reader_pool_utilization',
    "The reader pool's run time over its capacity since start, 0 to 1 (Piscina)",
    (m) => m.readerPool.utilization,
  );
  storeGauge(
    'kvd_reader_pool_queue_size',
    'Read tasks waiting for a reader thread',
    (m) => m.readerPool.queueSize,
  );
  storeGauge('kvd_reader_pool_threads', 'Reader threads', (m) => m.readerPool.threads);
  storeCounter(
    'kvd_records_written_total',
    'Records the writer appended',
    (m) => m.operations.recordsWritten,
  );
  storeCounter('kvd_group_commits_total', 'Group commits', (m) => m.operations.groupCommits);
  new Counter({
    name: 'kvd_keys_read_total',
    help: "Keys read, by where: 'inline' on the main thread, 'pool' by the reader pool",
    labelNames: ['path'],
    registers,
    collect(this: Counter<'path'>) {
      this.reset();
      if (store === undefined) return;
      this.inc({ path: 'inline' }, store.operations.inlineReads);
      this.inc({ path: 'pool' }, store.operations.pooledReads);
    },
  });
  collectDefaultMetrics({ register: registry });

  let scraping: Promise<string> | undefined;
  const scrapeOnce = async (): Promise<string> => {
    try {
      store = await source.store.metrics();
      source.collectCounters?.();
      return await registry.metrics();
    } finally {
      store = undefined;
      scraping = undefined;
    }
  };
  return {
    registry,
    scrape: () => {
      scraping ??= scrapeOnce();
      return scraping;
    },
  };
}

/** Replication: the offset, the role, a replica's link, a master's replicas and their lag. */
function replicationMetrics(source: MetricsSource, registers: Registry[]): void {
  const gauge = (name: string, help: string, read: (f: ReplicationFigures) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect(this: Gauge) {
        this.set(read(source.replication()));
      },
    });
  gauge(
    'kvd_repl_offset',
    'Replication offset: stream bytes made (master) or applied (replica)',
    (f) => f.offset,
  );
  gauge('kvd_repl_is_replica', '1 if this server is a replica, 0 if a master', (f) =>
    f.role === 'replica' ? 1 : 0,
  );
  gauge('kvd_repl_master_link_up', 'As a replica: 1 while the stream from the master flows', (f) =>
    f.linkUp ? 1 : 0,
  );
  gauge(
    'kvd_repl_master_last_io_seconds',
    'As a replica: seconds since the master last sent anything',
    (f) => f.lastIoSeconds,
  );
  gauge('kvd_repl_connected_replicas', 'As a master: replicas connected', (f) => f.replicas.length);
  const lag = (
    name: string,
    help: string,
    read: (r: ReplicationFigures['replicas'][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['replica'],
      registers,
      collect(this: Gauge) {
        this.reset();
        for (const r of source.replication().replicas) this.set({ replica: r.name }, read(r));
      },
    });
  lag(
    'kvd_repl_replica_lag_bytes',
    'As a master: stream bytes a replica has not acknowledged',
    (r) => r.lagBytes,
  );
  lag(
    'kvd_repl_replica_last_ack_seconds',
    'As a master: seconds since a replica last acknowledged',
    (r) => r.lagSeconds,
  );
}
