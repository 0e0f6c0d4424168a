// The account page: sign in or sign up as a guest, or see who you are, change your password and sign out.
import { api } from '../workspace/api.ts';
import { h, showFailure, showProblem, whileBusy } from '../lib/ui.ts';
import { loadMe, watchMe, type Me, type Role } from './me.ts';

const root = document.querySelector<HTMLElement>('[data-account]')!;
const $ = <T extends HTMLElement>(sel: string, within: ParentNode = root) => within.querySelector<T>(sel)!;
const ROLE_NAMES: Record<Role, string> = { learner: 'Learner', instructor: 'Instructor', admin: 'Admin' };
const ROLE_NOTES: Record<Role, string> = {
  learner:
    'To run workshops you need the instructor role. An admin of this Dockyard gives it on the Admin page, next to your username: ask them. Hosting Dockyard yourself? Its first account is the admin, and the DOCKYARD_ADMINS setting names more.',
  instructor: 'You can run workshops: see Workshops at the top of the page.',
  admin: 'You can run workshops and manage this Dockyard: see Admin at the top of the page.',
};

/** The form's fields as strings, the empty ones left out (optional fields are then not sent). */
function fields(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const input of form.querySelectorAll<HTMLInputElement>('input[name]')) {
    const value = input.type === 'password' ? input.value : input.value.trim();
    if (value) out[input.name] = value;
  }
  return out;
}

/** Submits a form to the API: its error is shown beside it; `done` runs on success. */
function handle(form: HTMLFormElement, path: string, done: () => Promise<void> | void): void {
  const error = $<HTMLElement>('[data-error]', form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    showProblem(error);
    void whileBusy(form.querySelector('button[type="submit"]')!, async () => {
      try {
        await api('POST', path, fields(form));
        await done();
      } catch (err) {
        showFailure(error, err);
      }
    });
  });
}

/** After signing in, up or out: everyone on the page (the header too) learns who this is now. */
async function switched(focus: string): Promise<void> {
  const me = await loadMe(true);
  for (const form of root.querySelectorAll('form')) form.reset();
  if (me) $(focus).focus();
}

function render(me: Me | undefined): void {
  $('[data-loading]').hidden = true;
  if (!me) {
    showProblem(
      $('[data-account-problem]'),
      'The server cannot be reached',
      'Check your connection, then reload the page.',
    );
    return;
  }
  // GitHub (through better-auth) comes back here with ?error=… when sign-in did not work.
  const oauthError = new URLSearchParams(location.search).get('error');
  if (oauthError && me.user.guest) {
    showProblem(
      $('[data-account-problem]'),
      'Signing in with GitHub did not work',
      `GitHub or the server said "${oauthError.replaceAll('_', ' ')}". Try again, or use a username and password.`,
    );
  } else showProblem($('[data-account-problem]'));
  const { user } = me;
  $('[data-guest]').hidden = !user.guest;
  $('[data-user]').hidden = user.guest;
  $('[data-github]').hidden = !me.github;
  if (user.guest) return;
  $('[data-display-name]').textContent = user.displayName;
  $('[data-username]').textContent = user.username ?? '(signed in with GitHub)';
  $('[data-role]').textContent = ROLE_NAMES[user.role];
  $('[data-role-note]').textContent = ROLE_NOTES[user.role];
  $('[data-joined]').hidden = me.workshops.length === 0;
  $('[data-joined-list]').replaceChildren(
    ...me.workshops.map((w) =>
      h('li', {}, w.lessons[0] ? h('a', { href: `/lessons/${w.lessons[0]}/` }, w.title) : w.title, ` (code ${w.code})`),
    ),
  );
}

handle($('[data-sign-in]'), '/api/account/sign-in', () => switched('#you-title'));
handle($('[data-sign-up]'), '/api/account/sign-up', () => switched('#you-title'));
const passwordForm = $<HTMLFormElement>('[data-change-password]');
handle(passwordForm, '/api/account/password', () => {
  passwordForm.reset();
  $('[data-ok]', passwordForm).textContent = 'Your password has been changed.';
});
passwordForm.addEventListener('input', () => ($('[data-ok]', passwordForm).textContent = ''));

const signOut = $<HTMLButtonElement>('[data-sign-out]');
signOut.addEventListener('click', () => {
  void whileBusy(signOut, async () => {
    try {
      await api('POST', '/api/account/sign-out', {});
      await switched('#sign-in-title');
    } catch (err) {
      showFailure($('[data-account-problem]'), err);
    }
  });
});

watchMe(render);
