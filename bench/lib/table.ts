// Owns the console tables each scenario prints.

import { formatNumber, formatRatio, formatUs } from './format.js';
import type { ScenarioResult } from './results.js';

/** Lays out rows under headers with aligned columns (numbers right-aligned). */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The scenario's figures table, then its ratios table. */
export function renderScenario(result: ScenarioResult): string {
  const figures = renderTable(
    ['figure', 'data', 'rate', 'unit', 'p50 µs', 'p99 µs', 'samples', 'how'],
    result.figures.map((f) => [
      f.label,
      f.dataset ?? '',
      formatNumber(f.value),
      f.unit,
      formatUs(f.p50Us),
      formatUs(f.p99Us),
      String(f.samples),
      f.how,
    ]),
  );
  const parts = [`== ${result.id}: ${result.title} (${result.seconds.toFixed(1)} s)`, figures];
  if (result.ratios.length > 0) {
    parts.push(
      renderTable(
        ['kvd ÷ peer', 'ratio'],
        result.ratios.map((r) => [r.label, formatRatio(r.value)]),
      ),
    );
  }
  for (const note of result.notes) parts.push(`note: ${note}`);
  return `${parts.join('\n\n')}\n`;
}
