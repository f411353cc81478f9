// INFO [section ...]: Redis-style text (`# Section` headers, `field:value` lines, CRLF) for the
// sections server, clients, memory, persistence, stats, replication, commandstats (only when asked, or with
// `all`/`everything`, as in Redis) and keyspace. Fields Redis defines keep Redis's names (tools
// parse them); kvd's own are prefixed `kvd_`. `redis_version` is the Redis version whose protocol
// kvd follows, so tools that check it behave. The stats counters count since CONFIG RESETSTAT.

import { arch, type as osType, release } from 'node:os';
import type { StoreStats } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { bulk, type RespValue } from '../../resp-value.js';
import { keyword } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';
import { lastSaveMs } from './lastsave.js';

/** The Redis version kvd's replies follow. */
export const REDIS_COMPATIBLE_VERSION = '7.0.0';

type Fields = readonly (readonly [string, string | number])[];
/** Every section, in Redis's order. */
const SECTIONS = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'commandstats',
  'keyspace',
] as const;
type Section = (typeof SECTIONS)[number];
/** The sections of a plain INFO (and `INFO default`). */
const DEFAULT_SECTIONS: ReadonlySet<Section> = new Set(
  SECTIONS.filter((s) => s !== 'commandstats'),
);

/** `cmdstat_<name>` lines for every command called, rejected or failed since the last reset. */
function commandstats(ctx: CommandContext): Fields {
  const lines: [string, string][] = [];
  for (const [name, c] of ctx.server.commandStats.entries()) {
    if (c.calls === 0 && c.rejectedCalls === 0 && c.failedCalls === 0) continue;
    const perCall = c.calls === 0 ? 0 : c.usec / c.calls;
    lines.push([
      `cmdstat_${name}`,
      `calls=${c.calls},usec=${Math.round(c.usec)},usec_per_call=${perCall.toFixed(2)},` +
        `rejected_calls=${c.rejectedCalls},failed_calls=${c.failedCalls}`,
    ]);
  }
  return lines;
}

function sectionFields(section: Section, ctx: CommandContext, stats: StoreStats): Fields {
  const { settings, counters } = ctx.server;
  const base = ctx.server.commandStats.engineBase;
  switch (section) {
    case 'server': {
      const uptime = Math.floor((Date.now() - ctx.server.startedAt) / 1000);
      return [
        ['redis_version', REDIS_COMPATIBLE_VERSION],
        ['kvd_version', settings.version],
        ['redis_mode', 'standalone'],
        ['os', `${osType()} ${release()} ${arch()}`],
        // Node's own flags (the young-generation cap of README "Memory" among them).
        ['kvd_node_flags', process.execArgv.join(' ')],
        ['arch_bits', 64],
        ['process_id', process.pid],
        ['run_id', ctx.server.runId],
        ['tcp_port', settings.port ?? 0],
        ['uptime_in_seconds', uptime],
        ['uptime_in_days', Math.floor(uptime / 86_400)],
      ];
    }
    case 'clients':
      return [
        ['connected_clients', ctx.server.clientCount()],
        ['maxclients', settings.maxClients],
        ['blocked_clients', 0],
        ['kvd_network_threads', settings.networkThreads],
        ['kvd_network_thread_clients', ctx.server.networkThreadClients()],
      ];
    case 'memory': {
      const memory = process.memoryUsage();
      const used = memory.heapUsed + memory.external;
      return [
        ['used_memory', used],
        ['used_memory_human', `${(used / 1024 / 1024).toFixed(2)}M`],
        ['used_memory_rss', memory.rss],
        ['maxmemory', 0],
        // kvd keeps values on disk and evicts nothing (job queues such as BullMQ check this).
        ['maxmemory_policy', 'noeviction'],
        ['kvd_index_bytes', stats.indexBytes],
        ['kvd_index_bytes_per_key', stats.indexBytesPerKey.toFixed(2)],
        // What the idle daemon gave back (README, "Memory"): C heap trims, full collections.
        ['kvd_idle_trims', ctx.server.idleTrim?.trims ?? 0],
        ['kvd_idle_collections', ctx.server.idleTrim?.collections ?? 0],
      ];
    }
    case 'persistence':
      return [
        ['loading', 0],
        ['kvd_dir', ctx.store.dir],
        ['kvd_durability', stats.durability],
        ['kvd_segments', stats.segments.length],
        ['kvd_disk_bytes', stats.diskBytes],
        ['kvd_live_bytes', stats.liveBytes],
        ['kvd_dead_bytes', stats.deadBytes],
        ['kvd_last_seq', stats.lastSeq],
        ['kvd_recovered_records', stats.recovery.records],
        ['kvd_recovery_truncated_bytes', stats.recovery.truncatedBytes],
        ['kvd_recovery_torn_records_cut', stats.recovery.tornTail?.recordsAfter ?? 0],
        ['rdb_bgsave_in_progress', ctx.server.backgroundSave.inProgress ? 1 : 0],
        ['rdb_last_save_time', Math.floor(lastSaveMs(ctx, stats.lastSnapshotAt) / 1000)],
        ['rdb_last_bgsave_status', ctx.server.backgroundSave.lastStatus],
        ['rdb_last_bgsave_time_sec', ctx.server.backgroundSave.lastSeconds],
        ['rdb_current_bgsave_time_sec', ctx.server.backgroundSave.currentSeconds()],
        ['kvd_backup_dir', ctx.server.backgroundSave.dir],
      ];
    case 'stats':
      return [
        ['total_connections_received', counters.connectionsReceived],
        ['total_commands_processed', counters.commandsProcessed],
        ['rejected_connections', counters.rejectedConnections],
        ['expired_keys', stats.writer.expiredKeys - base.expiredKeys],
        ['evicted_keys', 0], // kvd never evicts
        ['keyspace_hits', counters.keyspaceHits],
        ['keyspace_misses', counters.keyspaceMisses],
        ['sync_full', ctx.server.replication.master.syncFull],
        ['sync_partial_ok', ctx.server.replication.master.syncPartialOk],
        ['sync_partial_err', ctx.server.replication.master.syncPartialErr],
        [
          'client_output_buffer_limit_disconnections',
          ctx.server.replication.master.bufferLimitDisconnections,
        ],
        ['kvd_protocol_errors', counters.protocolErrors],
        ['kvd_network_thread_gets', counters.networkThreadGets],
        ['kvd_writer_writes', stats.writer.writes - base.writerWrites],
        ['kvd_writer_syncs', stats.writer.syncs - base.writerSyncs],
        ['kvd_damaged_reads', stats.damage.reads - base.damagedReads],
        [
          'kvd_damaged_ranges_skipped_by_merges',
          stats.damage.skippedByMerges.ranges - base.damagedRanges,
        ],
      ];
    case 'replication':
      return ctx.server.replication.infoFields();
    case 'commandstats':
      return commandstats(ctx);
    case 'keyspace':
      // Redis lists only non-empty databases; avg_ttl is whole ms, as Redis prints it.
      return stats.keys > 0
        ? [
            [
              'db0',
              `keys=${stats.keys},expires=${stats.withExpiry.keys},avg_ttl=${Math.round(stats.withExpiry.avgTtlMs)}`,
            ],
          ]
        : [];
  }
}

async function info(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const asked = args.slice(1).map(keyword);
  const all = asked.some((s) => s === 'all' || s === 'everything');
  const usual = asked.length === 0 || asked.includes('default');
  const sections = SECTIONS.filter(
    (section) => all || (usual && DEFAULT_SECTIONS.has(section)) || asked.includes(section),
  );
  const stats = await ctx.store.stats();
  ctx.server.collectCounters();
  const text = sections
    .map((section) => {
      const title = `# ${section[0]!.toUpperCase()}${section.slice(1)}\r\n`;
      return (
        title +
        sectionFields(section, ctx, stats)
          .map(([k, v]) => `${k}:${v}\r\n`)
          .join('')
      );
    })
    .join('\r\n');
  return bulk(text);
}

/** INFO. */
export const infoCommand: CommandSpec = {
  name: 'info',
  arity: -1,
  flags: ['loading', 'stale'],
  kind: 'read',
  keys: NO_KEYS,
  handler: info,
  summary: 'Returns information and statistics about the server.',
};
