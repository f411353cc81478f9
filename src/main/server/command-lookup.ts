// Owns finding a request's command from its first argument's bytes, ignoring ASCII case, without
// making a string per request (the connection looks one up for every request it parses).

import { Buffer } from 'node:buffer';
import type { CommandSpec } from './commands/command-spec.js';

/** A command of the table and its lower-case name's bytes. */
interface Entry {
  readonly name: Uint8Array;
  readonly spec: CommandSpec;
}

const UPPER_A = 65;
const UPPER_Z = 90;

function lower(byte: number): number {
  return byte >= UPPER_A && byte <= UPPER_Z ? byte + 32 : byte;
}

/** The bucket of names of `length` bytes that start with `first` (already lower case). */
function bucketOf(length: number, first: number): number {
  return length * 256 + first;
}

/**
 * Finds commands by name bytes. Main thread. Built once per server from the command table
 * (lower-case names); a lookup compares the request's bytes with the command found last, then
 * with the few names of the same length and first letter, case-insensitively, and allocates
 * nothing.
 */
export class CommandLookup {
  private readonly buckets = new Map<number, Entry[]>();
  /** The command found last: pipelined requests mostly repeat it, so it is compared first. */
  private last: Entry | undefined = undefined;

  constructor(table: ReadonlyMap<string, CommandSpec>) {
    for (const [name, spec] of table) {
      const bytes = Buffer.from(name, 'latin1');
      const key = bucketOf(bytes.length, lower(bytes[0] ?? 0));
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = [];
        this.buckets.set(key, bucket);
      }
      bucket.push({ name: bytes, spec });
    }
  }

  /** The command named `name` in any ASCII case, or undefined. */
  find(name: Uint8Array): CommandSpec | undefined {
    if (name.length === 0) return undefined;
    const first = lower(name[0]!);
    const last = this.last;
    if (
      last !== undefined &&
      last.name.length === name.length &&
      last.name[0] === first &&
      sameIgnoringCase(last.name, name)
    ) {
      return last.spec;
    }
    const bucket = this.buckets.get(bucketOf(name.length, first));
    if (!bucket) return undefined;
    for (const entry of bucket) {
      if (sameIgnoringCase(entry.name, name)) {
        this.last = entry;
        return entry.spec;
      }
    }
    return undefined;
  }
}

/** Whether `request` is `lowerName` in any ASCII case; both have the same length. */
function sameIgnoringCase(lowerName: Uint8Array, request: Uint8Array): boolean {
  for (let i = 1; i < lowerName.length; i++) {
    if (lower(request[i]!) !== lowerName[i]) return false;
  }
  return true;
}
