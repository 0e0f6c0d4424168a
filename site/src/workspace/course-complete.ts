// The celebration's last word: a pass that completes the course says so under its exercise, with
// a link to the learner's completion page (a guest is asked to create an account first).
import { myCompletion } from '../lib/completion.ts';
import { h } from '../lib/ui.ts';

/** Called when `exercise` newly passes; shows nothing unless every exercise of the course is passed. */
export async function showCourseComplete(exercise: HTMLElement): Promise<void> {
  const box = exercise.querySelector<HTMLElement>('[data-course-complete]');
  if (!box?.hidden) return;
  const state = await myCompletion().catch(() => undefined);
  if (!state || state.kind === 'incomplete') return;
  box.hidden = false;
  // A live region announces what changes after it is shown: the words a moment later.
  setTimeout(() => {
    box.replaceChildren(
      h('strong', {}, 'You have passed every exercise of the course!'),
      ' ',
      ...(state.kind === 'ready'
        ? [h('a', { href: state.url }, 'Your completion page'), ' is ready to share; the course page links it too.']
        : [
            h('a', { href: '/account/' }, 'Create an account'),
            ' to get a completion page you can share: the progress you made as a guest comes with you.',
          ]),
    );
  }, 50);
}
