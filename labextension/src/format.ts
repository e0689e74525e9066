/** Small display helpers shared by the components. */

/** A metric value with four significant digits, or an en dash when there is none. */
export function formatValue(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : Number(value.toPrecision(4)).toString();
}

/** An ISO timestamp as `YYYY-MM-DD HH:MM` (seconds with `seconds`), or `fallback` when missing. */
export function formatTime(iso: string | null | undefined, seconds = false, fallback = ''): string {
  return iso ? iso.replace('T', ' ').slice(0, seconds ? 19 : 16) : fallback;
}

/** A duration in seconds as `4.2 s`, `3 min 5 s` or `2 h 10 min`. */
export function formatDuration(s: number | null | undefined): string {
  if (s === null || s === undefined) {
    return '–';
  }
  if (s < 60) {
    return `${Number(s.toPrecision(2))} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
