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
