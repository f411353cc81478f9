// Owns the shape of bench/results/latest.json: figures, ratios, scenarios, the machine, and a
// small builder scenarios use to record them. report.ts reads only this shape.

import type { BenchConfig, ScenarioId } from './config.js';
import type { DatasetId } from './dataset.js';
import type { Measurement } from './measure.js';
import { median, quantile } from './stats.js';

export type Engine =
  | 'kvd'
  | 'kvd-1thread'
  | 'lmdb'
  | 'classic-level'
  | 'sqlite'
  | 'fs'
  | 'js-map'
  | 'redis'
  | 'redis-io-threads'
  | 'node-floor';

export type Unit =
  | 'keys/s'
  | 'writes/s'
  | 'reads/s'
  | 'syncs/s'
  | 'checksums/s'
  | 'requests/s'
  | 'ms'
  | 'B'
  | 'B/key'
  | 'MiB'
  | 'disk/live'
  | '%';

/** One measured number. */
export interface Figure {
  /** Unique in a run, e.g. "hits.A.kvd.getSync". Targets and ratios refer to figures by id. */
  readonly id: string;
  readonly label: string;
  readonly engine: Engine;
  readonly dataset?: DatasetId;
  readonly unit: Unit;
  readonly better: 'higher' | 'lower';
  /** The rate over the whole measured time (or a single run's value when samples is 1). */
  readonly value: number;
  readonly samples: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
  /** How it was measured, in a few words (in flight, batch size, …). */
  readonly how: string;
}

/** kvd's figure divided by a peer's figure (same unit). */
export interface Ratio {
  readonly id: string;
  readonly label: string;
  readonly kvd: string;
  readonly peer: string;
  readonly value: number;
}

export interface ScenarioResult {
  readonly id: ScenarioId;
  readonly title: string;
  readonly notes: readonly string[];
  readonly figures: readonly Figure[];
  readonly ratios: readonly Ratio[];
  readonly seconds: number;
  /** Set when the scenario threw: figures recorded before the failure are kept. */
  readonly error?: string;
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  readonly memoryGiB: number;
  readonly tmpdir: string;
  /** 1-minute load average when the run started: a busy machine skews every number. */
  readonly loadAverage: number;
  readonly date: string;
}

export interface TargetResult {
  readonly id: string;
  readonly text: string;
  readonly status: 'met' | 'NOT met' | 'not measured';
  readonly measured: string;
  readonly note?: string;
}

export interface BenchResults {
  readonly schema: 1;
  readonly machine: MachineInfo;
  readonly command: string;
  readonly config: BenchConfig;
  readonly scenarios: readonly ScenarioResult[];
  readonly targets: readonly TargetResult[];
  readonly seconds: number;
}

type FigureFields = Omit<Figure, 'value' | 'samples' | 'p50Us' | 'p99Us'>;

/** Collects one scenario's figures and ratios. */
export class ResultBuilder {
  readonly figures: Figure[] = [];
  readonly ratios: Ratio[] = [];
  readonly notes: string[] = [];

  /** Records a measurement's median rate and latency under `fields.id`. */
  measured(fields: FigureFields, m: Measurement): Figure {
    return this.add({
      ...fields,
      value: m.perSec,
      samples: m.samples,
      ...(Number.isFinite(m.p50Us) ? { p50Us: m.p50Us, p99Us: m.p99Us } : {}),
    });
  }

  /** Records a plain value (a time, a size). */
  value(fields: FigureFields, value: number, samples = 1): Figure {
    return this.add({ ...fields, value, samples });
  }

  /**
   * Records times of one operation (ms each): the median in ms as the value, its median and
   * 99th percentile in µs as the latencies, one sample per time.
   */
  durations(fields: FigureFields, ms: ArrayLike<number>): Figure {
    return this.add({
      ...fields,
      value: median(ms),
      samples: ms.length,
      p50Us: quantile(ms, 0.5) * 1000,
      p99Us: quantile(ms, 0.99) * 1000,
    });
  }

  /** Records kvd ÷ peer for two figures already added. */
  ratio(id: string, label: string, kvd: Figure, peer: Figure): void {
    this.ratios.push({ id, label, kvd: kvd.id, peer: peer.id, value: kvd.value / peer.value });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  private add(figure: Figure): Figure {
    if (this.figures.some((f) => f.id === figure.id))
      throw new Error(`duplicate figure ${figure.id}`);
    this.figures.push(figure);
    return figure;
  }
}
