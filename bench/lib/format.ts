// Owns how numbers are written in tables and in the report.

/** 1234567 → "1,234,567"; small values keep up to 3 significant decimals. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toPrecision(3);
}

/** A ratio as "2.31×". */
export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
}

/** Microseconds, or "–" when not measured. */
export function formatUs(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return '–';
  return us >= 100 ? Math.round(us).toLocaleString('en-US') : us.toFixed(2);
}
