/**
 * How busy the machine was while something ran, from /proc (Linux; elsewhere the figures are absent):
 * CPU used by this benchmark's own process tree (runner, service, baseline worker, emulators) versus by
 * everything else. Other work on the machine is the main source of noise in the ratios.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100;

interface Snapshot {
  at: number;
  busy: number;
  ours: number;
}

function procStat(pid: string): { ppid: number; cpu: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (3rd field overall): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(fields[1]), cpu: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function snapshot(): Snapshot | undefined {
  try {
    const cpu =
      readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const busy = cpu.slice(0, 8).reduce((sum, value) => sum + value, 0) - idle;
    const processes = new Map<number, { ppid: number; cpu: number }>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = procStat(entry);
      if (stat) processes.set(Number(entry), stat);
    }
    let ours = 0;
    for (const [pid, stat] of processes) {
      for (let p: number | undefined = pid, hops = 0; p && hops < 20; p = processes.get(p)?.ppid, hops++) {
        if (p === process.pid) {
          ours += stat.cpu;
          break;
        }
      }
    }
    return { at: performance.now(), busy, ours };
  } catch {
    return undefined;
  }
}

export interface MachineLoad {
  /** Average cores busy over the interval: all processes, this benchmark's, everything else. */
  busyCores: number;
  benchCores: number;
  otherCores: number;
}

/** Starts measuring; call the returned function at the end of the interval. */
export function measureMachine(): () => MachineLoad | undefined {
  const before = snapshot();
  return () => {
    const after = snapshot();
    if (!before || !after) return undefined;
    const seconds = (after.at - before.at) / 1000;
    const cores = (ticks: number) => Math.round((ticks / CLOCK_TICKS / seconds) * 100) / 100;
    const busy = cores(after.busy - before.busy);
    const bench = cores(after.ours - before.ours);
    // Processes of ours that exited in the interval take their ticks with them; clamp at zero.
    return {
      busyCores: busy,
      benchCores: bench,
      otherCores: Math.max(0, Math.round((busy - bench) * 100) / 100),
    };
  };
}
