/**
 * Program load times as bpftool prints them: local wall-clock time as strftime's
 * `%FT%T%z` in plain text, seconds since the epoch in JSON.
 */

const p2 = (n: number) => String(n).padStart(2, "0");

/** Whole seconds since the epoch (bpftool truncates). */
export function epochSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/** strftime("%FT%T%z") in local time, e.g. `2026-11-21T21:05:13+0000`. */
export function formatLocalIso(d: Date): string {
  const t = new Date(epochSeconds(d) * 1000);
  const off = -t.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return (
    `${t.getFullYear()}-${p2(t.getMonth() + 1)}-${p2(t.getDate())}` +
    `T${p2(t.getHours())}:${p2(t.getMinutes())}:${p2(t.getSeconds())}` +
    `${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`
  );
}
