// Dates, times and counts as people read them, in the browser's own locale.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatTime = (ms: number) => dateTime.format(ms);

/** "12 Mar 2026, 14:00 – 16:00": the date once when both ends share it. */
export const formatRange = (from: number, to: number) =>
  to > from ? dateTime.formatRange(from, to) : formatTime(from);

/** "1 learner", "3 learners". */
export const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The value of an `<input type="datetime-local">` for a moment, in local time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A time left, rounded down to the minute: "1 h 5 min", "45 min", "less than a minute". */
export function formatLeft(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return [h && `${h} h`, m && `${m} min`].filter(Boolean).join(' ');
}

/** A day with its month written out ("1 December 2026", "December 1, 2026"): never 12/1 or 1/12. */
export const formatDay = (ms: number) => new Intl.DateTimeFormat(undefined, { dateStyle: 'long' }).format(ms);

/** A time of day ("16:42", "4:42 PM"). */
export const formatClock = (ms: number) => new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(ms);
