// Owns crash fault injection for tests: with KVD_FAULT=<point> in the environment, reaching the
// named point kills the whole process with SIGKILL, exactly as a power cut or kill -9 at that
// step would (minus the page cache). Crash tests use it to stop compaction, hint and snapshot
// writes between their steps. A no-op unless the variable is set.

const armed = process.env.KVD_FAULT;

/** Kills the process here if KVD_FAULT names `point`. */
export function faultPoint(point: string): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
