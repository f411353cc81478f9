// Types of parse-prometheus-text-format 1.1.1 (the package ships none), as far as the tests use
// it: the metric families it parses from Prometheus's text format, values kept as strings.

declare module 'parse-prometheus-text-format' {
  /** One sample (counter, gauge, untyped) or one labelled histogram or summary. */
  export interface ParsedMetric {
    readonly labels?: Readonly<Record<string, string>>;
    /** A counter's, gauge's or untyped sample's value. */
    readonly value?: string;
    /** A histogram's cumulative bucket counts by `le` (`+Inf` included). */
    readonly buckets?: Readonly<Record<string, string>>;
    /** A summary's quantiles. */
    readonly quantiles?: Readonly<Record<string, string>>;
    readonly count?: string;
    readonly sum?: string;
  }

  /** One metric family: its `# HELP`, `# TYPE` and samples. */
  export interface ParsedFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly ParsedMetric[];
  }

  /** Parses a whole exposition (throws on malformed text). */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
