// The admin page: capacity, sessions (end one) and users (change a role), from GET /api/admin/overview.
import type { AdminOverview } from '@dockyard/sandbox-server/protocol/api';
import { watchMe, type Role } from '../account/me.ts';
import { api } from '../workspace/api.ts';
import { formatTime } from '../lib/format.ts';
import { h, showFailure, showProblem } from '../lib/ui.ts';

type Overview = AdminOverview;
type SessionRow = Overview['sessions'][number];

const root = document.querySelector<HTMLElement>('[data-admin]')!;
const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
const error = $('[data-error]');
const done = $('[data-done]');
const ROLES: Role[] = ['learner', 'instructor', 'admin'];
const A_ROLE: Record<Role, string> = { learner: 'a learner', instructor: 'an instructor', admin: 'an admin' };
let myId = '';

function tell(text: string): void {
  showProblem(error);
  done.textContent = text;
}

function sessionRow(s: SessionRow): HTMLTableRowElement {
  const { nodes } = s;
  const name = s.owner.username ? `${s.owner.displayName} (${s.owner.username})` : s.owner.displayName;
  const end = h(
    'button',
    { type: 'button', class: 'button danger small', 'data-end-session': s.id, 'aria-label': `End ${name}'s session` },
    'End',
  );
  const tr = h(
    'tr',
    { 'data-session': s.id },
    h('td', {}, name),
    h('td', {}, s.lesson ?? '–'),
    h('td', {}, s.state),
    h('td', { 'data-nodes': String(nodes.length) }, nodes.length === 1 ? '1' : `${nodes.length} (${nodes.join(', ')})`),
    h('td', {}, formatTime(s.createdAt)),
    h('td', {}, formatTime(s.endsAt)),
    h('td', {}, end),
  );
  end.addEventListener('click', async () => {
    if (!confirm(`End ${name}'s session? Their sandbox, with its containers and files, is removed.`)) return;
    end.disabled = true;
    try {
      await api('DELETE', `/api/admin/sessions/${encodeURIComponent(s.id)}`);
      tr.remove();
      tell(`${name}'s session has ended.`);
    } catch (e) {
      end.disabled = false;
      showFailure(error, e);
    }
  });
  return tr;
}

function userRow(u: Overview['users'][number]): HTMLTableRowElement {
  const select = h('select', { 'data-role-of': u.id, 'aria-label': `Role of ${u.displayName}` });
  select.append(
    ...ROLES.map((r) => h('option', { value: r, selected: r === u.role }, r[0]!.toUpperCase() + r.slice(1))),
  );
  let saved = u.role;
  select.addEventListener('change', async () => {
    const role = select.value as Role;
    if (u.id === myId && role !== 'admin' && !confirm('You will no longer be an admin, and lose this page. Go on?')) {
      select.value = saved;
      return;
    }
    select.disabled = true;
    try {
      await api('POST', `/api/admin/users/${encodeURIComponent(u.id)}/role`, { role });
      saved = role;
      tell(`${u.displayName} is now ${A_ROLE[role]}.`);
    } catch (e) {
      select.value = saved;
      showFailure(error, e);
    } finally {
      select.disabled = false;
    }
  });
  const reset = h(
    'button',
    {
      type: 'button',
      class: 'button secondary small',
      'data-reset-password': u.id,
      'aria-label': `Reset ${u.displayName}'s password`,
    },
    'Reset password',
  );
  reset.addEventListener('click', async () => {
    if (!confirm(`Give ${u.displayName} a new one-time password? They are signed out everywhere.`)) return;
    reset.disabled = true;
    try {
      const { password } = await api<{ password: string }>(
        'POST',
        `/api/admin/users/${encodeURIComponent(u.id)}/password`,
      );
      tell(`New password for ${u.displayName}: ${password} (pass it on; they should change it on their account page).`);
    } catch (e) {
      showFailure(error, e);
    } finally {
      reset.disabled = false;
    }
  });
  return h(
    'tr',
    { 'data-user': u.id },
    h('td', {}, u.displayName),
    h('td', {}, u.username ?? '–'),
    h('td', {}, u.email ?? '–'),
    h('td', {}, select),
    h('td', {}, formatTime(u.createdAt)),
    h('td', {}, reset),
  );
}

async function load(): Promise<void> {
  try {
    const o = await api<Overview>('GET', '/api/admin/overview');
    for (const [k, v] of Object.entries(o.capacity)) {
      const dd = root.querySelector(`[data-stat="${k}"]`);
      if (dd) dd.textContent = String(v);
    }
    $('[data-sessions] tbody').replaceChildren(...o.sessions.map(sessionRow));
    $('[data-no-sessions]').hidden = o.sessions.length > 0;
    $('[data-sessions-wrap]').hidden = o.sessions.length === 0;
    $('[data-users] tbody').replaceChildren(...o.users.map(userRow));
    $('[data-guests]').textContent =
      o.guests === 1 ? 'One guest learns without an account.' : `${o.guests} guests learn without an account.`;
  } catch (e) {
    showFailure(error, e);
  }
}

$('[data-refresh]').addEventListener('click', () => {
  done.textContent = '';
  void load();
});

watchMe((me) => {
  const admin = me?.user.role === 'admin';
  myId = me?.user.id ?? '';
  $('[data-loading]').hidden = true;
  $('[data-not-admin]').hidden = admin;
  $('[data-admin-body]').hidden = !admin;
  if (admin) void load();
});
