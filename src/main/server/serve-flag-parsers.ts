// Owns the parsers of `kvd serve`'s flag values that take more than a number or a choice: whole
// numbers in a range, `--network-threads`, `--replicaof host:port`, and
// `--replica-output-buffer-limit`. Each throws commander's InvalidArgumentError, which `kvd
// serve` reports with the flag's name.

import { InvalidArgumentError } from 'commander';
import {
  DEFAULT_REPLICA_BUFFER_LIMIT,
  type ReplicaBufferLimit,
} from './replication/replica-peer.js';
import type { MasterAddress } from './replication/replication-state.js';

/** A parser of a whole number from `min` to `max` for the flag `name`. */
export function integerIn(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** `--network-threads`: `auto`, or a whole number from 1 to `max`. */
export function parseNetworkThreads(max: number): (value: string) => number | 'auto' {
  const count = integerIn('network-threads', 1, max);
  return (value) => {
    if (value.trim().toLowerCase() === 'auto') return 'auto';
    try {
      return count(value);
    } catch {
      throw new InvalidArgumentError(`network-threads must be auto or an integer from 1 to ${max}`);
    }
  };
}

/** `--replica-output-buffer-limit`: `hard` or `hard:soft:seconds`, sizes with an optional unit. */
export function parseReplicaBufferLimit(value: string): ReplicaBufferLimit {
  const parts = value.trim().split(':');
  const size = (text: string): number => {
    const match = /^(\d+)(b|kb?|mb?|gb?)?$/i.exec(text);
    const unit = match?.[2]?.[0]?.toLowerCase();
    const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
    const n = match ? Number(match[1]) * scale : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`replica-output-buffer-limit: '${text}' is not a size`);
    }
    return n;
  };
  if (parts.length === 1) return { ...DEFAULT_REPLICA_BUFFER_LIMIT, hardBytes: size(parts[0]!) };
  if (parts.length !== 3) {
    throw new InvalidArgumentError('replica-output-buffer-limit must be hard or hard:soft:seconds');
  }
  const seconds = integerIn('replica-output-buffer-limit seconds', 0, 86_400)(parts[2]!);
  return { hardBytes: size(parts[0]!), softBytes: size(parts[1]!), softSeconds: seconds };
}

/** `--replicaof host:port` (an IPv6 host in brackets: `[::1]:6379`). */
export function parseMasterAddress(value: string): MasterAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(`--replicaof takes host:port, not "${value}"`);
  }
  return { host: match[1] ?? match[2]!, port };
}
