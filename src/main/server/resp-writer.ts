// Owns RESP encoding: turns `RespValue`s into bytes (RESP2, or RESP3 after HELLO 3) in a
// per-connection buffer that the connection hands to its socket once per batch of replies.

import type { RespValue } from './resp-value.js';

/** The RESP version a client speaks: 2 (default) or 3 (after `HELLO 3`). */
export type RespProtocol = 2 | 3;

/**
 * Bulk values at least this long are handed to the socket as they are (no copy); shorter ones
 * are copied, with the surrounding reply text, into one buffer per flush.
 */
const ZERO_COPY_BYTES = 16 * 1024;

/**
 * Encodes replies for one connection. Main thread. The buffers returned by `take` belong to the
 * caller (the socket); bulk values of at least 16 KiB are referenced, not copied, so their
 * owner must not change them afterwards (Store values are never reused).
 */
export class RespWriter {
  private text = '';
  private parts: Buffer[] = [];

  /** Appends `value`, encoded for `protocol`. */
  write(value: RespValue, protocol: RespProtocol): void {
    switch (value.kind) {
      case 'simple':
        this.text += `+${oneLine(value.text)}\r\n`;
        return;
      case 'error':
        this.text += `-${oneLine(value.text)}\r\n`;
        return;
      case 'integer':
        this.text += `:${value.value}\r\n`;
        return;
      case 'bulk':
        if (typeof value.value === 'string') {
          this.text += `$${Buffer.byteLength(value.value)}\r\n${value.value}\r\n`;
        } else {
          this.text += `$${value.value.length}\r\n`;
          this.bytes(value.value);
          this.text += '\r\n';
        }
        return;
      case 'null':
        this.text += protocol === 3 ? '_\r\n' : '$-1\r\n';
        return;
      case 'null-array':
        this.text += protocol === 3 ? '_\r\n' : '*-1\r\n';
        return;
      case 'array':
        this.text += `*${value.items.length}\r\n`;
        for (const item of value.items) this.write(item, protocol);
        return;
      case 'map':
        this.text +=
          protocol === 3 ? `%${value.entries.length}\r\n` : `*${value.entries.length * 2}\r\n`;
        for (const [k, v] of value.entries) {
          this.write(k, protocol);
          this.write(v, protocol);
        }
        return;
      case 'double': {
        const text = formatDouble(value.value);
        this.text += protocol === 3 ? `,${text}\r\n` : `$${text.length}\r\n${text}\r\n`;
        return;
      }
      case 'boolean':
        if (protocol === 3) this.text += value.value ? '#t\r\n' : '#f\r\n';
        else this.text += value.value ? ':1\r\n' : ':0\r\n';
        return;
      case 'none':
        return;
    }
  }

  /** Whether nothing has been written since the last `take`. */
  get isEmpty(): boolean {
    return this.text.length === 0 && this.parts.length === 0;
  }

  /**
   * Everything written since the last call, as few buffers as possible: small pieces merged
   * into one, large bulk values kept apart so they are not copied. Empties the writer.
   */
  take(): Buffer[] {
    this.endText();
    const parts = this.parts;
    this.parts = [];
    if (parts.length <= 1) return parts;
    const out: Buffer[] = [];
    let run: Buffer[] = [];
    const endRun = (): void => {
      if (run.length === 1) out.push(run[0]!);
      else if (run.length > 1) out.push(Buffer.concat(run));
      run = [];
    };
    for (const part of parts) {
      if (part.length >= ZERO_COPY_BYTES) {
        endRun();
        out.push(part);
      } else {
        run.push(part);
      }
    }
    endRun();
    return out;
  }

  private bytes(value: Uint8Array): void {
    this.endText();
    this.parts.push(
      Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length),
    );
  }

  private endText(): void {
    if (this.text.length === 0) return;
    this.parts.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
  }
}

/** Simple strings and errors cannot hold CR or LF: Redis replaces them with spaces too. */
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
}

function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  return String(value);
}
