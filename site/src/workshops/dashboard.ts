// The live dashboard of a workshop: its socket (reconnecting by itself), the progress grid, watching
// a learner's terminal read-only, a message to everyone, more time for every sandbox.
import { isInstructor, loadMe } from '../account/me.ts';
import { api } from '../workspace/api.ts';
import { count, formatRange, formatTime, toLocalInput } from '../lib/format.ts';
import { copyButton, showFailure, showProblem, whileBusy } from '../lib/ui.ts';
import { ProgressGrid } from './grid.ts';
import type {
  Dashboard,
  DashboardClientMessage,
  DashboardServerMessage,
} from '@dockyard/sandbox-server/protocol/dashboard';
import type { WatchTerminals } from './watch-terminal.ts';
import type { WorkshopView as Workshop } from '@dockyard/sandbox-server/protocol/api';

const root = document.querySelector<HTMLElement>('[data-dashboard]')!;
const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
const id = new URLSearchParams(location.search).get('id') ?? '';
const base = `/api/workshops/${encodeURIComponent(id)}`;
const connection = $('[data-connection]');
const problem = $('[data-problem]');
const panel = $('[data-watch-panel]');
const grid = new ProgressGrid(
  $<HTMLTableElement>('[data-grid]'),
  JSON.parse(root.dataset.lessonTitles ?? '{}') as Record<string, string>,
  (learner) => toggleWatch(learner),
);
/** Errors after which trying again cannot help. */
const FINAL = new Set(['FORBIDDEN', 'SIGN_IN_REQUIRED', 'WORKSHOP_NOT_FOUND', 'NOT_FOUND']);
const PING_MS = 25_000;

let socket: WebSocket | undefined;
let retries = 0;
let stopped = false;
let keepAlive: number | undefined;
let lastHeard = 0;
let watching: { id: string; name: string } | undefined;
let terminals: Promise<WatchTerminals> | undefined;

function say(state: 'connecting' | 'live' | 'offline', text: string): void {
  connection.dataset.state = state;
  connection.textContent = text;
}

function send(msg: DashboardClientMessage): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

function connect(): void {
  say('connecting', retries ? 'Reconnecting…' : 'Connecting…');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}/live`);
  socket = ws;
  ws.onopen = () => {
    retries = 0;
    lastHeard = Date.now();
    say('live', 'Live');
    if (watching) startWatching();
    keepAlive = window.setInterval(() => {
      // No answer to two pings: the connection is dead without having said so.
      if (Date.now() - lastHeard > 2 * PING_MS + 5_000) return lost(ws);
      send({ type: 'ping', at: Date.now() });
    }, PING_MS);
  };
  ws.onmessage = (e) => {
    lastHeard = Date.now();
    handle(JSON.parse(String(e.data)) as DashboardServerMessage);
  };
  ws.onclose = () => lost(ws);
}

function lost(ws: WebSocket): void {
  if (socket !== ws) return;
  socket = undefined;
  clearInterval(keepAlive);
  ws.close();
  if (stopped) return;
  const wait = Math.min(10_000, 1000 * 2 ** retries++);
  say('offline', `Reconnecting in ${wait / 1000} s…`);
  setTimeout(connect, wait);
}

function handle(msg: DashboardServerMessage): void {
  switch (msg.type) {
    case 'dashboard':
      return render(msg);
    case 'watch':
      if (msg.learner === watching?.id) {
        $('[data-watch-state]').textContent = {
          started: `Live. ${watching.name} sees a note that you are watching.`,
          'no-sandbox': `${watching.name} has no sandbox running right now.`,
          stopped: 'Watching has stopped.',
        }[msg.state];
      }
      return;
    case 'watch-output':
      if (msg.learner === watching?.id) void terminals?.then((t) => t.write(msg.term, msg.data));
      return;
    case 'watch-size':
      if (msg.learner === watching?.id) void terminals?.then((t) => t.resize(msg.term, msg.cols, msg.rows));
      return;
    case 'error':
      showProblem(problem, msg.title, msg.hint);
      if (FINAL.has(msg.code)) {
        stopped = true;
        say('offline', 'Not connected');
        socket?.close();
      }
      return;
    case 'pong':
      return;
  }
}

function showWorkshop(w: Pick<Workshop, 'title' | 'code' | 'joinUrl' | 'startsAt' | 'endsAt'>): void {
  document.title = `${w.title} · Dashboard · Dockyard`;
  $('[data-title]').textContent = w.title;
  $('[data-join-code]').textContent = w.code;
  const link = $<HTMLAnchorElement>('[data-join-link]');
  link.href = link.textContent = w.joinUrl;
  $('[data-times]').textContent = formatRange(w.startsAt, w.endsAt);
}

const change = $<HTMLFormElement>('[data-change-form]');
const seats = $<HTMLInputElement>('#change-seats');
const ends = $<HTMLInputElement>('#change-ends');
/** The form shows the workshop as it is, except while the instructor is editing it. */
let editing = false;
change.addEventListener('input', () => (editing = true));
change.addEventListener('submit', (e) => {
  e.preventDefault();
  const [error, done] = [$('[data-change-error]'), $('[data-change-status]')];
  showProblem(error);
  done.textContent = '';
  void whileBusy(change.querySelector('button')!, async () => {
    try {
      const r = await api<{ workshop: Workshop }>('PATCH', base, {
        seatLimit: Number(seats.value),
        endsAt: new Date(ends.value).getTime(),
      });
      editing = false;
      done.textContent = `Saved: ${count(r.workshop.seatLimit, 'seat')}, until ${formatTime(r.workshop.endsAt)}.`;
    } catch (err) {
      showFailure(error, err);
    }
  });
});

function render(msg: Dashboard): void {
  showWorkshop(msg.workshop);
  if (!editing) {
    seats.value = String(msg.workshop.seatLimit);
    ends.value = toLocalInput(msg.workshop.endsAt);
  }
  grid.render(msg, watching?.id);
  const online = msg.learners.filter((l) => l.online).length;
  const stuck = msg.learners.filter((l) => l.stuck).length;
  $('[data-summary]').textContent =
    `${count(msg.learners.length, 'learner')} joined of ${msg.workshop.seatLimit} · ${online} online · ${stuck} stuck`;
  $('[data-stuck-minutes]').textContent = String(msg.stuckMinutes);
  $('[data-empty]').hidden = msg.learners.length > 0;
  $('[data-grid-wrap]').hidden = msg.learners.length === 0;
}

function startWatching(): void {
  terminals ??= import('./watch-terminal.ts').then(
    (m) => new m.WatchTerminals($('[data-watch-terms]'), $('[data-watch-tabs]')),
  );
  void terminals.then((t) => {
    t.clear();
    t.owner = watching?.name ?? '';
  });
  $('[data-watch-state]').textContent = 'Connecting to their terminal…';
  send({ type: 'watch', learner: watching!.id });
}

function toggleWatch(learner: Dashboard['learners'][number]): void {
  if (watching?.id === learner.id) return stopWatching();
  watching = { id: learner.id, name: learner.displayName };
  $('[data-watch-name]').textContent = learner.displayName;
  panel.hidden = false;
  grid.watching(learner.id);
  startWatching();
  panel.scrollIntoView({ block: 'nearest' });
  $('[data-watch-title]').focus();
}

function stopWatching(): void {
  const was = watching?.id;
  send({ type: 'watch', learner: null });
  watching = undefined;
  panel.hidden = true;
  grid.watching(undefined);
  void terminals?.then((t) => t.clear());
  if (was) grid.watchButton(was)?.focus();
}

$('[data-watch-stop]').addEventListener('click', stopWatching);

const broadcast = $<HTMLFormElement>('[data-broadcast-form]');
broadcast.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $<HTMLTextAreaElement>('#broadcast-text').value.trim();
  const [error, done] = [$('[data-broadcast-error]'), $('[data-broadcast-status]')];
  showProblem(error);
  done.textContent = '';
  if (!text) return showProblem(error, 'The message is empty', 'Type what your learners should read.');
  void whileBusy(broadcast.querySelector('button')!, async () => {
    try {
      const r = await api<{ delivered: number }>('POST', `${base}/broadcast`, { text });
      done.textContent = `Sent to ${count(r.delivered, 'learner')}.`;
      broadcast.reset();
    } catch (err) {
      showFailure(error, err);
    }
  });
});

const extend = $<HTMLButtonElement>('[data-extend-all]');
extend.addEventListener('click', () => {
  const [error, done] = [$('[data-extend-error]'), $('[data-extend-status]')];
  showProblem(error);
  done.textContent = '';
  void whileBusy(extend, async () => {
    try {
      const r = await api<{ extended: number }>('POST', `${base}/extend`, {});
      done.textContent = `Extended ${count(r.extended, 'sandbox', 'sandboxes')}.`;
    } catch (err) {
      showFailure(error, err);
    }
  });
});

async function start(): Promise<void> {
  if (!id) return showProblem(problem, 'No workshop chosen', 'Open a dashboard from the Workshops page.');
  const me = await loadMe();
  if (!isInstructor(me?.user)) {
    return showProblem(problem, 'Instructors only', 'Sign in with the account that created this workshop.');
  }
  // The list of one's workshops says at once whether this one is there, and what it is called.
  try {
    const { workshops } = await api<{ workshops: Workshop[] }>('GET', '/api/workshops');
    const w = workshops.find((x) => x.id === id);
    if (!w)
      return showProblem(problem, 'This workshop is not one of yours', 'Open a dashboard from the Workshops page.');
    showWorkshop(w);
  } catch (e) {
    return showFailure(problem, e);
  }
  $<HTMLAnchorElement>('[data-results-csv]').href = `${base}/results.csv`;
  $('[data-join-line]').append(copyButton(() => $<HTMLAnchorElement>('[data-join-link]').href));
  $('[data-live-body]').hidden = false;
  connect();
}

void start();
