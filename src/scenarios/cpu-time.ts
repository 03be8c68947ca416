/**
 * CPU time of the calling thread, for the sweep profile (`DESIM_PROFILE`).
 * Never written into results: it only tells where a sweep's time went.
 *
 * On Linux it reads `/proc/thread-self/stat` (user + system time, in clock
 * ticks of 10 ms), so a worker thread measures itself and the main thread
 * does not count its workers. Elsewhere it falls back to the whole process's
 * `process.cpuUsage()`, and {@link THREAD_CPU} says so.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/<pid>/stat` (Linux's USER_HZ, 100 on every architecture it runs on). */
const TICKS_PER_S = 100;

function fromProc(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_S : undefined;
  } catch {
    return undefined;
  }
}

/** True when {@link threadCpuSeconds} measures the calling thread alone (Linux); false: the whole process. */
export const THREAD_CPU = fromProc() !== undefined;

/** CPU seconds (user + system) the calling thread has used since it started; the whole process's where {@link THREAD_CPU} is false. */
export function threadCpuSeconds(): number {
  if (THREAD_CPU) {
    const s = fromProc();
    if (s !== undefined) return s;
  }
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
