// Owns splitting an inline command (a line typed into telnet or `nc`) into arguments, with the
// quoting rules of Redis's sdssplitargs: "double quotes" with \n \r \t \b \a \xHH escapes, and
// 'single quotes' with only \' — a closing quote must be followed by a space or the line's end;
// a NUL byte ends the line.

import { Buffer } from 'node:buffer';

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;
const ESCAPES = new Map<number, number>([
  [0x6e, 0x0a], // \n
  [0x72, 0x0d], // \r
  [0x74, 0x09], // \t
  [0x62, 0x08], // \b
  [0x61, 0x07], // \a
]);

/**
 * The arguments of one inline command line (without its line ending), or undefined if its quotes
 * are unbalanced. A blank line gives []. Pure; the result does not share memory with `line`.
 */
export function splitInline(line: Uint8Array): Buffer[] | undefined {
  // Redis splits a C string: a NUL byte ends the line.
  const nul = line.indexOf(0);
  if (nul >= 0) line = line.subarray(0, nul);
  const args: Buffer[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && SPACE.has(line[i]!)) i++;
    if (i >= n) return args;
    const current: number[] = [];
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = line[i];
      if (inDouble) {
        if (c === undefined) return undefined;
        if (c === BACKSLASH && line[i + 1] === 0x78 && isHex(line[i + 2]) && isHex(line[i + 3])) {
          current.push(hexValue(line[i + 2]!) * 16 + hexValue(line[i + 3]!));
          i += 3;
        } else if (c === BACKSLASH && i + 1 < n) {
          i++;
          const escaped = line[i]!;
          current.push(ESCAPES.get(escaped) ?? escaped);
        } else if (c === DOUBLE_QUOTE) {
          if (i + 1 < n && !SPACE.has(line[i + 1]!)) return undefined;
          i++;
          break;
        } else {
          current.push(c);
        }
      } else if (inSingle) {
        if (c === undefined) return undefined;
        if (c === BACKSLASH && line[i + 1] === SINGLE_QUOTE) {
          current.push(SINGLE_QUOTE);
          i++;
        } else if (c === SINGLE_QUOTE) {
          if (i + 1 < n && !SPACE.has(line[i + 1]!)) return undefined;
          i++;
          break;
        } else {
          current.push(c);
        }
      } else {
        if (c === undefined || SPACE.has(c)) break;
        if (c === DOUBLE_QUOTE) inDouble = true;
        else if (c === SINGLE_QUOTE) inSingle = true;
        else current.push(c);
      }
      i++;
    }
    args.push(Buffer.from(current));
  }
}

function isHex(c: number | undefined): boolean {
  return (
    c !== undefined &&
    ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
  );
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c <= 0x46) return c - 0x41 + 10;
  return c - 0x61 + 10;
}
