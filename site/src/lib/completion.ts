// This learner's completion page, as the course page and the workspace's celebration show it: the
// server counts (GET /api/completion) and, once every exercise is passed, makes the page (POST).
import type { MyCompletion } from '@dockyard/sandbox-server/protocol/api';
import { api } from '../workspace/api.ts';

export type CompletionState =
  { kind: 'incomplete'; passed: number; exercises: number } | { kind: 'guest' } | { kind: 'ready'; url: string };

/** Where this learner stands; makes their completion page when they have earned one and have none. */
export async function myCompletion(): Promise<CompletionState> {
  let mine = await api<MyCompletion>('GET', '/api/completion');
  if (!mine.completion && mine.passed >= mine.exercises && mine.exercises > 0 && !mine.guest) {
    mine = await api<MyCompletion>('POST', '/api/completion', {});
  }
  if (mine.completion) return { kind: 'ready', url: mine.completion.url };
  if (mine.passed < mine.exercises) return { kind: 'incomplete', passed: mine.passed, exercises: mine.exercises };
  return { kind: 'guest' };
}

/** "0 of 3 exercises passed", "All 3 exercises passed" ("1 of 1 exercise passed"). */
export function passedText(passed: number, total: number): string {
  if (total > 1 && passed >= total) return `All ${total} exercises passed`;
  return `${passed} of ${total} exercise${total === 1 ? '' : 's'} passed`;
}
