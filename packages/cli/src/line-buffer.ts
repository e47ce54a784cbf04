/**
 * Log lines gathered for a moment and written together. A fleet worker logs two lines per job;
 * written one by one, each is a system call, which on a busy worker was a fifth of the CPU it
 * spends per job besides the job itself. Lines wait at most `flushMs` (or until 64 KiB are
 * waiting); whatever waits is written when the process exits, also on SIGINT/SIGTERM.
 */
const MAX_WAITING_CHARS = 64 * 1024;

export interface LineBuffer {
  write(line: string): void;
  flush(): void;
}

export function lineBuffer(write: (text: string) => void, flushMs: number): LineBuffer {
  let waiting: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const text = waiting.join('');
    waiting = [];
    chars = 0;
    write(text);
  };
  return {
    write(line) {
      waiting.push(line);
      chars += line.length;
      if (chars >= MAX_WAITING_CHARS) flush();
      else if (!timer) {
        timer = setTimeout(flush, flushMs);
        // A process with nothing else to do exits, and its exit handler writes what waits.
        timer.unref();
      }
    },
    flush,
  };
}
