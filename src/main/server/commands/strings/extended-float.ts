// Owns INCRBYFLOAT's arithmetic. Redis adds in C's `long double`, on x86-64 the x87 80-bit
// extended format (64-bit significand, 15-bit exponent); this module emulates that format exactly
// with BigInt: parsing as Redis accepts numbers (strtold, whole string), one correctly rounded
// addition, and printing as `%.17Lf` with Redis's trimming, so results match Redis digit for digit.

import { Buffer } from 'node:buffer';

/** A finite extended-precision number: (-1)^negative × significand × 2^exponent. */
export interface ExtendedFloat {
  readonly negative: boolean;
  /** Below 2^64; at least 2^63 unless the number is subnormal or zero. */
  readonly significand: bigint;
  readonly exponent: number;
}

/** An infinity: a result out of range (or an operand spelled `inf`). */
export const INFINITE = 'infinite';

/** The exponent of a significand's last bit for the smallest normals and every subnormal. */
const MIN_EXPONENT = -16445;
/** The exponent of a significand's last bit for the largest finite numbers. */
const MAX_EXPONENT = 16320;
const SIGNIFICAND_BITS = 64;
/** Redis refuses number strings this long or longer (MAX_LONG_DOUBLE_CHARS). */
const MAX_TEXT_BYTES = 5 * 1024;
/** Decimal digits `%.17Lf` prints after the point. */
const FRACTION_DIGITS = 17n;

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INFINITY_TEXT = /^[+-]?(inf|infinity)$/i;

/**
 * Parses `text` as Redis reads a float argument or value: the whole string must be one number as
 * C's strtold reads it (decimal or `0x` hexadecimal, optional exponent, `inf`/`infinity`), with no
 * whitespace, shorter than 5 KiB. Answers undefined where Redis answers "not a valid float"
 * (also NaN, and a nonzero number too large or too small for the format), `INFINITE` for `inf`.
 * Pure.
 */
export function parseExtended(text: Uint8Array): ExtendedFloat | typeof INFINITE | undefined {
  if (text.length === 0 || text.length >= MAX_TEXT_BYTES) return undefined;
  const s = Buffer.from(text.buffer, text.byteOffset, text.length).toString('latin1');
  if (INFINITY_TEXT.test(s)) return INFINITE;
  const hex = HEX.exec(s);
  if (hex) return parseHex(hex[1] === '-', hex[2] ?? '', hex[3] ?? '', hex[4]);
  const decimal = DECIMAL.exec(s);
  if (decimal)
    return parseDecimal(decimal[1] === '-', decimal[2] ?? '', decimal[3] ?? '', decimal[4]);
  return undefined;
}

/**
 * `a + b`, rounded once to the nearest extended-precision number (ties to even), as the x87 adds;
 * `INFINITE` if the sum is out of range. Pure.
 */
export function addExtended(a: ExtendedFloat, b: ExtendedFloat): ExtendedFloat | typeof INFINITE {
  const low = Math.min(a.exponent, b.exponent);
  const sum = signed(a, low) + signed(b, low);
  if (sum === 0n) return zero(a.negative && b.negative);
  const rounded = round(sum < 0n, sum < 0n ? -sum : sum, 1n, low);
  return rounded ?? INFINITE;
}

/**
 * `x` as Redis prints a long double result (`%.17Lf`, ties to even, then trailing zeros and a
 * trailing point removed; `-0` becomes `0`): no exponent, at most 17 digits after the point. Pure.
 */
export function formatExtended(x: ExtendedFloat): string {
  let scaled: bigint;
  if (x.exponent >= 0) {
    scaled = (x.significand << BigInt(x.exponent)) * 10n ** FRACTION_DIGITS;
  } else {
    const exact = x.significand * 10n ** FRACTION_DIGITS;
    const shift = BigInt(-x.exponent);
    scaled = exact >> shift;
    const rest = exact - (scaled << shift);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (scaled & 1n) === 1n)) scaled++;
  }
  const digits = scaled.toString().padStart(Number(FRACTION_DIGITS) + 1, '0');
  const point = digits.length - Number(FRACTION_DIGITS);
  let end = digits.length;
  while (end > point && digits[end - 1] === '0') end--;
  const text =
    end === point
      ? digits.slice(0, point)
      : `${digits.slice(0, point)}.${digits.slice(point, end)}`;
  return x.negative && text !== '0' ? `-${text}` : text;
}

function zero(negative: boolean): ExtendedFloat {
  return { negative, significand: 0n, exponent: 0 };
}

/** `x` as a signed integer count of 2^`low` units (low is at most x's exponent). */
function signed(x: ExtendedFloat, low: number): bigint {
  const magnitude = x.significand << BigInt(x.exponent - low);
  return x.negative ? -magnitude : magnitude;
}

function parseDecimal(
  negative: boolean,
  whole: string,
  fraction: string,
  exponentText: string | undefined,
): ExtendedFloat | undefined {
  if (whole.length + fraction.length === 0) return undefined;
  const digits = BigInt(whole + fraction);
  if (digits === 0n) return zero(negative);
  const exponent10 = clampedExponent(exponentText) - fraction.length;
  // digits × 10^exponent10 lies in [10^(magnitude-1), 10^magnitude): outside the format's range
  // (about 3.6e-4951 to 1.19e4932) strtold fails with ERANGE, which Redis refuses.
  const magnitude = digits.toString().length + exponent10;
  if (magnitude >= 4934 || magnitude <= -4952) return undefined;
  const [num, den] =
    exponent10 >= 0
      ? [digits * 10n ** BigInt(exponent10), 1n]
      : [digits, 10n ** BigInt(-exponent10)];
  const rounded = round(negative, num, den, 0);
  return rounded === undefined || rounded.significand === 0n ? undefined : rounded;
}

function parseHex(
  negative: boolean,
  whole: string,
  fraction: string,
  exponentText: string | undefined,
): ExtendedFloat | undefined {
  if (whole.length + fraction.length === 0) return undefined;
  const digits = BigInt(`0x${whole}${fraction}`);
  if (digits === 0n) return zero(negative);
  const exponent2 = clampedExponent(exponentText) - 4 * fraction.length;
  const magnitude = bitLength(digits) + exponent2;
  if (magnitude > 16385 || magnitude < -16447) return undefined;
  const rounded = round(negative, digits, 1n, exponent2);
  return rounded === undefined || rounded.significand === 0n ? undefined : rounded;
}

/** An exponent's digits as a number, saturated far beyond any exponent the format can hold. */
function clampedExponent(text: string | undefined): number {
  if (text === undefined) return 0;
  return Math.max(-1e9, Math.min(1e9, Number(text)));
}

/**
 * num / den × 2^exp2 (num, den > 0) rounded to the nearest extended-precision number, ties to
 * even, subnormals included (a zero significand when it rounds to 0); undefined past the largest.
 */
function round(
  negative: boolean,
  num: bigint,
  den: bigint,
  exp2: number,
): ExtendedFloat | undefined {
  // floor(log2(num / den)), from the bit lengths and one comparison.
  let log2 = bitLength(num) - bitLength(den);
  if (log2 >= 0 ? num < den << BigInt(log2) : num << BigInt(-log2) < den) log2--;
  let exponent = Math.max(log2 + exp2 - (SIGNIFICAND_BITS - 1), MIN_EXPONENT);
  const shift = exponent - exp2;
  const n = shift >= 0 ? num : num << BigInt(-shift);
  const d = shift >= 0 ? den << BigInt(shift) : den;
  let significand = n / d;
  const twiceRest = (n - significand * d) * 2n;
  if (twiceRest > d || (twiceRest === d && (significand & 1n) === 1n)) significand++;
  if (significand === 1n << BigInt(SIGNIFICAND_BITS)) {
    significand >>= 1n;
    exponent++;
  }
  if (exponent > MAX_EXPONENT) return undefined;
  return { negative, significand, exponent };
}

function bitLength(n: bigint): number {
  return n.toString(2).length;
}
