// This browser's progress (GET /api/progress), fetched once per page however many islands ask,
// and where a learner goes on from there.

export interface ProgressEntry {
  exercise: string;
  lesson: string;
  passed: boolean;
  bestScore: number;
  maxScore: number;
  attempts: number;
  lastCompletedAt: number | null;
  updatedAt: number;
}

/** A lesson with a page, in course order, and its exercises. */
export interface WrittenLesson {
  slug: string;
  title: string;
  exercises: string[];
}

let loaded: Promise<ProgressEntry[]> | undefined;

/** The progress, or none when the server cannot say. */
export function loadProgress(): Promise<ProgressEntry[]> {
  loaded ??= fetch('/api/progress', { credentials: 'same-origin' })
    .then((r) => (r.ok ? (r.json() as Promise<{ progress: ProgressEntry[] }>) : { progress: [] }))
    .then((b) => b.progress)
    .catch(() => []);
  return loaded;
}

/** A lesson is done when it has exercises and every one of them has been passed. */
export const isDone = (lesson: WrittenLesson, passed: ReadonlySet<string>) =>
  lesson.exercises.length > 0 && lesson.exercises.every((e) => passed.has(e));

/**
 * Where to go on: the lesson worked on last, unless it is done, else the next one after it not
 * done yet. Undefined for a newcomer (start at the first) or when everything written is done.
 */
export function resumeAt(lessons: readonly WrittenLesson[], progress: readonly ProgressEntry[]) {
  const latest = progress.reduce<ProgressEntry | undefined>(
    (a, p) => (a && a.updatedAt >= p.updatedAt ? a : p),
    undefined,
  );
  if (!latest) return undefined;
  const passed = new Set(progress.filter((p) => p.passed).map((p) => p.exercise));
  const at = lessons.findIndex((l) => l.slug === latest.lesson);
  return lessons.slice(Math.max(at, 0)).find((l) => !isDone(l, passed));
}
