import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set size, in bytes. On Linux it is the kernel's high-water mark of
 * this program's own memory (`VmHWM` in /proc/self/status). `process.resourceUsage().maxRSS`
 * is not: a child started by fork + exec keeps the parent's peak from before the exec, so a bench
 * child of a 1.5 GB parent reported at least 1.5 GB whatever it used itself. Elsewhere it falls
 * back to maxRSS.
 */
export function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: no /proc
  }
  return process.resourceUsage().maxRSS * 1024;
}
