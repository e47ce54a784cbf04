// What the "night" scenario samples while a fleet runs: each process's CPU seconds and resident
// memory from /proc (Linux), and Redis memory, both the server's INFO used_memory and the summed
// MEMORY USAGE of the run's own key prefix (the shared Redis has other clients).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';
import { keysMemory, usedMemory } from './fleet-support.mjs';

/** Clock ticks per second of /proc/PID/stat's CPU times (asked, not assumed). */
function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const TICKS = clockTicks();

/** { cpuS, rssKiB, hwmKiB } of a live process, or undefined once it has exited. */
export function procSample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS, rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * Samples every process in `procs` ({ role, pid }) each `everyMs`: the last CPU seconds seen and
 * the highest VmHWM (the kernel's own peak RSS) are kept per process, so a process that exits
 * keeps its last numbers. Call stop() for them.
 */
export function sampleProcesses(procs, everyMs) {
  const last = new Map(procs.map((p) => [p.pid, { ...p, cpuS: 0, peakRssKiB: 0, samples: 0 }]));
  const take = () => {
    for (const rec of last.values()) {
      const s = procSample(rec.pid);
      if (!s) continue;
      rec.cpuS = s.cpuS;
      rec.peakRssKiB = Math.max(rec.peakRssKiB, Number.isFinite(s.hwmKiB) ? s.hwmKiB : s.rssKiB);
      rec.samples++;
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    take,
    stop() {
      clearInterval(timer);
      take();
      return [...last.values()];
    },
  };
}

/** INFO used_memory and the prefix's own keys (count, MEMORY USAGE bytes). */
export async function redisMemory(redis, prefix) {
  const [used, keys] = [await usedMemory(redis), await keysMemory(redis, `${prefix}:*`)];
  return { usedMemory: used, prefixKeys: keys.keys, prefixBytes: keys.bytes };
}
