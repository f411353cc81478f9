// The Node flags kvd's threads start with (thread-exec-argv.ts): never the host's, except its
// profiling flags, in either spelling of a flag's value.

import { describe, expect, it } from 'vitest';
import { threadExecArgv } from '../../dist/main/thread-exec-argv.js';

describe('threadExecArgv', () => {
  it("drops the host's flags and adds kvd's own", () => {
    const host = ['--input-type=module', '-e', 'code', '--conditions', 'dev', '--inspect'];
    expect(threadExecArgv([], host)).toEqual([]);
    expect(threadExecArgv(['--no-experimental-require-module'], host)).toEqual([
      '--no-experimental-require-module',
    ]);
  });

  it("keeps the host's profiling flags, so node --cpu-prof profiles kvd's threads too", () => {
    const host = ['--cpu-prof', '--cpu-prof-dir=prof', '--heap-prof-dir', 'heap', '--trace-gc'];
    expect(threadExecArgv(['--x'], host)).toEqual([
      '--cpu-prof',
      '--cpu-prof-dir=prof',
      '--heap-prof-dir',
      'heap',
      '--x',
    ]);
  });
});
