// Owns the terminal progress bar long operations show when a person is watching (the REPL's
// COMPACT, `kvd compact`): a cli-progress bar on the given stream, or nothing when the stream
// is not a terminal (piped output then holds the results alone). Main thread.

import { SingleBar } from 'cli-progress';

/** Progress of one operation, in bytes. */
export interface ProgressBar {
  update(done: number, total: number): void;
  stop(): void;
}

/** A bar labelled `label` on `stream` if it is a terminal, else one that draws nothing. */
export function progressBar(
  label: string,
  stream: NodeJS.WritableStream,
  terminal: boolean,
): ProgressBar {
  if (!terminal) return { update() {}, stop() {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} bytes | {duration}s`,
    stream: stream as NodeJS.WritableStream & { isTTY: true },
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
