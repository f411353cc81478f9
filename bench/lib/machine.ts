// Owns the description of the machine a run happened on.

import { availableParallelism, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import type { MachineInfo } from './results.js';

/** CPU model, cores, Node version, kernel, memory and the current load. */
export function describeMachine(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
    platform: `${platform()} ${process.arch}`,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    tmpdir: tmpdir(),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    date: new Date().toISOString(),
  };
}
