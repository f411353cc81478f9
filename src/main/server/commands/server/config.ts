// CONFIG GET parameter..., CONFIG SET parameter value [parameter value ...], CONFIG RESETSTAT,
// CONFIG REWRITE and CONFIG HELP, under Redis's parameter names and error texts. kvd's settings
// come from its flags; the one that can change while it runs is `appendfsync` (the store's
// durability mode, `Store.setDurability`); the others are refused as Redis refuses immutable ones.

import { Buffer } from 'node:buffer';
import type { Durability } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { globMatch } from '../../glob.js';
import { array, bulk, error, map, OK, type RespValue, simple } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR, subcommandRefusal } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value> (kvd: appendfsync only).',
  'RESETSTAT',
  '    Reset the statistics reported by the INFO command.',
  'REWRITE',
  '    Refused: kvd runs without a config file (its settings are its flags).',
  'HELP',
  '    Print this help.',
];

/** Subcommands and their arity (Redis's, name and subcommand included). */
const ARITIES: ReadonlyMap<string, number> = new Map([
  ['get', -3],
  ['set', -4],
  ['resetstat', 2],
  ['rewrite', 2],
  ['help', 2],
]);

const DURABILITY_MODES: readonly Durability[] = ['always', 'everysec', 'no'];

/** The parameters CONFIG GET knows, with their values. */
function parameters(ctx: CommandContext): [string, string][] {
  const s = ctx.server.settings;
  return [
    ['appendonly', 'yes'], // kvd is a log: every write is appended
    ['appendfsync', s.durability],
    ['bind', s.host ?? ''],
    ['databases', '1'],
    ['maxclients', String(s.maxClients)],
    // kvd keeps values on disk and evicts nothing: no memory limit, no eviction policy.
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
    ['port', String(s.port ?? 0)],
    ['proto-max-bulk-len', String(s.maxBulkBytes)],
    ['save', ''],
    ['timeout', String(s.idleTimeoutSeconds)],
    ['unixsocket', s.unixPath ?? ''],
  ];
}

function configGet(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const patterns = args
    .slice(2)
    .map((p) => Buffer.from(p.toString('latin1').toLowerCase(), 'latin1'));
  const found = parameters(ctx).filter(([name]) =>
    patterns.some((pattern) => globMatch(pattern, Buffer.from(name, 'latin1'))),
  );
  return map(found.map(([name, value]) => [bulk(name), bulk(value)]));
}

function setFailed(name: Buffer, why: string): RespValue {
  return error(
    `ERR CONFIG SET failed (possibly related to argument '${name.toString('latin1')}') - ${why}`,
  );
}

/**
 * CONFIG SET, checked whole before anything changes, in Redis's order: an unknown parameter
 * first, then an immutable or repeated one, then an invalid value.
 */
async function configSet(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  if (args.length % 2 !== 0) return SYNTAX_ERROR;
  const known = new Set(parameters(ctx).map(([name]) => name));
  const pairs: [name: Buffer, value: Buffer][] = [];
  for (let i = 2; i < args.length; i += 2) pairs.push([args[i]!, args[i + 1]!]);
  const unknown = pairs.find(([name]) => !known.has(keyword(name)));
  if (unknown) {
    return error(
      `ERR Unknown option or number of arguments for CONFIG SET - '${unknown[0].toString('latin1')}'`,
    );
  }
  const seen = new Set<string>();
  for (const [name] of pairs) {
    const parameter = keyword(name);
    if (parameter !== 'appendfsync') return setFailed(name, "can't set immutable config");
    if (seen.has(parameter)) return setFailed(name, 'duplicate parameter');
    seen.add(parameter);
  }
  // Only appendfsync is left, once.
  const [name, value] = pairs[0]!;
  const mode = DURABILITY_MODES.find((m) => m === keyword(value));
  if (mode === undefined) {
    // In Redis's order (its enum's), so the text is Redis's to the byte.
    return setFailed(name, 'argument(s) must be one of the following: everysec, always, no');
  }
  await ctx.store.setDurability(mode);
  ctx.server.settings.durability = mode;
  return OK;
}

/** CONFIG RESETSTAT: INFO's counters (stats, commandstats) start again from zero. */
async function configResetstat(ctx: CommandContext): Promise<RespValue> {
  ctx.server.collectCounters(); // what the network threads counted so far is reset too
  ctx.server.counters.reset();
  ctx.server.commandStats.reset(await ctx.store.stats());
  return OK;
}

function config(ctx: CommandContext, args: readonly Buffer[]): RespValue | Promise<RespValue> {
  const refused = subcommandRefusal('config', ARITIES, args);
  if (refused) return refused;
  const sub = keyword(args[1]!);
  if (sub === 'help') return array(HELP.map(simple));
  switch (sub) {
    case 'get':
      return configGet(ctx, args);
    case 'set':
      return configSet(ctx, args);
    case 'resetstat':
      return configResetstat(ctx);
    default:
      return error('ERR The server is running without a config file');
  }
}

/** CONFIG. */
export const configCommand: CommandSpec = {
  name: 'config',
  arity: -2,
  flags: ['admin', 'loading', 'stale'],
  kind: 'none',
  keys: NO_KEYS,
  handler: config,
  subcommands: ARITIES,
  summary: 'Reads settings (GET), sets appendfsync (SET), resets INFO statistics (RESETSTAT).',
};
