// Owns the reply values of the daemon: one small tagged union that command handlers return and
// that `RespWriter` encodes as RESP2 or RESP3, whichever protocol the client chose with HELLO.

/** A reply, independent of the protocol version that will carry it. */
export type RespValue =
  | { readonly kind: 'simple'; readonly text: string }
  /**
   * An error (`-`). `bytes`: the text holds raw bytes, one a char (latin1), written as they are:
   * an error that quotes a client's arguments, which Redis echoes byte for byte.
   */
  | { readonly kind: 'error'; readonly text: string; readonly bytes?: true }
  | { readonly kind: 'integer'; readonly value: number | bigint }
  | { readonly kind: 'bulk'; readonly value: Uint8Array | string }
  /** RESP2 null bulk string (`$-1`), RESP3 null (`_`). */
  | { readonly kind: 'null' }
  /** RESP2 null array (`*-1`), RESP3 null (`_`). */
  | { readonly kind: 'null-array' }
  | { readonly kind: 'array'; readonly items: readonly RespValue[] }
  /** RESP3 map (`%`); a flat array of keys and values in RESP2. */
  | { readonly kind: 'map'; readonly entries: readonly (readonly [RespValue, RespValue])[] }
  /** RESP3 double (`,`); a bulk string in RESP2. */
  | { readonly kind: 'double'; readonly value: number }
  /** RESP3 boolean (`#`); the integer 1 or 0 in RESP2. */
  | { readonly kind: 'boolean'; readonly value: boolean }
  /** RESP3 set (`~`): COMMAND INFO's flags, categories and key specs; an array in RESP2. */
  | { readonly kind: 'set'; readonly items: readonly RespValue[] }
  /** RESP3 push (`>`), out of band (pub/sub messages); an array in RESP2. */
  | { readonly kind: 'push'; readonly items: readonly RespValue[] }
  /** Several replies to one request, one after the other (SUBSCRIBE a b: one per channel). */
  | { readonly kind: 'sequence'; readonly items: readonly RespValue[] }
  /** No bytes at all (SHUTDOWN closes the connection without a reply, as Redis does). */
  | { readonly kind: 'none' };

/** `+OK`. */
export const OK: RespValue = { kind: 'simple', text: 'OK' };
/** The null bulk string (`$-1` / `_`). */
export const NULL: RespValue = { kind: 'null' };
/** No reply. */
export const NO_REPLY: RespValue = { kind: 'none' };

const SMALL_INTEGERS: readonly RespValue[] = Array.from({ length: 64 }, (_, value) => ({
  kind: 'integer',
  value,
}));

/** A simple string reply (`+text`). `text` must not contain CR or LF. */
export function simple(text: string): RespValue {
  return { kind: 'simple', text };
}

/**
 * An error reply (`-text`). By Redis convention `text` starts with an upper-case code word
 * (`ERR`, `NOAUTH`, `WRONGPASS`, or a kvd code such as `KV_VALUE_TOO_LARGE`).
 */
export function error(text: string): RespValue {
  return { kind: 'error', text };
}

/** An error quoting a client's bytes: `text` holds them one a char (latin1), sent as they are. */
export function errorOfBytes(text: string): RespValue {
  return { kind: 'error', text, bytes: true };
}

/** An integer reply (`:n`); a bigint carries the full signed 64-bit range. */
export function integer(value: number | bigint): RespValue {
  return typeof value === 'number' && value >= 0 && value < SMALL_INTEGERS.length
    ? (SMALL_INTEGERS[value] ?? { kind: 'integer', value })
    : { kind: 'integer', value };
}

/** A bulk string reply; strings are sent as UTF-8. */
export function bulk(value: Uint8Array | string): RespValue {
  return { kind: 'bulk', value };
}

/** A bulk string, or the null bulk string for `undefined`. */
export function bulkOrNull(value: Uint8Array | string | undefined): RespValue {
  return value === undefined ? NULL : { kind: 'bulk', value };
}

/** An array reply. */
export function array(items: readonly RespValue[]): RespValue {
  return { kind: 'array', items };
}

/** A set (`~` in RESP3, an array in RESP2). */
export function set(items: readonly RespValue[]): RespValue {
  return { kind: 'set', items };
}

/** A map reply (RESP3 `%`, a flat array in RESP2). */
export function map(entries: readonly (readonly [RespValue, RespValue])[]): RespValue {
  return { kind: 'map', entries };
}

/** A double reply (RESP3 `,`, a bulk string in RESP2). */
export function double(value: number): RespValue {
  return { kind: 'double', value };
}

/** A boolean reply (RESP3 `#`, an integer in RESP2). */
export function boolean(value: boolean): RespValue {
  return { kind: 'boolean', value };
}
