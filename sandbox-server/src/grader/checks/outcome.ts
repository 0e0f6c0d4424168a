// What every check kind shares: its outcome, and how expectations and findings are put in words.
import type { TextMatch } from '@dockyard/content';
import { GRADER_PREFIX } from '../../sessions/engine-events.ts';

export interface Outcome {
  pass: boolean;
  /** What was found, against what was expected (on failure), or what was confirmed (on success). */
  message: string;
}

export const ok = (message: string): Outcome => ({ pass: true, message });
export const no = (message: string): Outcome => ({ pass: false, message });
/** Every unmet expectation, as one sentence (each starts with its subject, often a name, kept as written). */
export const failed = (problems: readonly string[]): Outcome => no(`${problems.join('; ')}.`);

export function textMatches(actual: string | undefined, m: TextMatch): boolean {
  if (actual === undefined) return false;
  return typeof m === 'string' ? actual === m : new RegExp(m.matches).test(actual);
}
export const describeMatch = (m: TextMatch) => (typeof m === 'string' ? `"${m}"` : `text matching /${m.matches}/`);
export const quote = (s: string | undefined) =>
  s === undefined ? 'nothing' : `"${s.length > 80 ? `${s.slice(0, 77)}...` : s}"`;
/** Shell-quotes one argument. */
export const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
export const enc = encodeURIComponent;
/** Helper containers the grader makes; live grading ignores their events. */
export const graderName = () => `${GRADER_PREFIX}${Math.random().toString(36).slice(2, 10)}`;

export function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** `nginx`, `nginx:latest` and `docker.io/library/nginx:latest` are one image reference. */
export function sameImageRef(a: string, b: string): boolean {
  const norm = (r: string) => {
    let s = r.replace(/^docker\.io\//, '').replace(/^library\//, '');
    if (!/:[^/]+$/.test(s) && !s.includes('@')) s += ':latest';
    return s;
  };
  return norm(a) === norm(b);
}

/** Memory in MiB, for messages. */
export const mib = (bytes: number) => (bytes ? `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB` : 'none');
/** Sizes as `docker image ls` shows them. */
export const mb = (bytes: number) =>
  bytes < 1e6 ? `${Math.round(bytes / 1e3)} kB` : `${Math.round(bytes / 1e5) / 10} MB`;
