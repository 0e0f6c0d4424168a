// The workspace, loaded when the learner starts their sandbox: the session and its WebSocket
// (reconnecting by itself), its nodes, terminals, live checks and published ports.
import type { ClientMessage, ServerMessage } from '@dockyard/sandbox-server/protocol';
import { formatClock, formatLeft } from '../lib/format.ts';
import { api, ApiFailure, type SessionView } from './api.ts';
import { Banner } from './banner.ts';
import { renderReport } from './checks.ts';
import { showCourseComplete } from './course-complete.ts';
import { NodeMaps } from './node-maps.ts';
import { Nodes } from './nodes.ts';
import { showBroadcast, showWatched } from './notices.ts';
import { renderPorts } from './ports.ts';
import { innerShellPrompt } from './terminal-text.ts';
import { FIRST_NODE } from './term-ids.ts';
import { Terminals } from './terminals.ts';

export interface Workspace {
  /** Shows a node1 terminal and runs a command in it (saving the editor's file first). */
  run(command: string): Promise<void>;
  /** Shows the terminal and puts the keyboard in it. */
  focus(): void;
  /** The session's id (the file routes are under /api/sessions/:id). */
  readonly sessionId: string;
  /** Shows the editor with that file of ~/work (node1) open. */
  edit(path: string): Promise<void>;
}

export interface WorkspaceOptions {
  /** The lesson's slug: its exercises start, and the session is made for it. None in the playground. */
  lesson?: string;
  /** Put the keyboard in the terminal at once (the learner pressed Start). */
  focus?: boolean;
  /** The playground's workspace: the nodes bar always, Add node and the Swarm templates. */
  playground?: boolean;
  /** Nodes the lesson needs (its frontmatter's `nodes`): added when the session has fewer. */
  nodes?: number;
  /** The Swarm the lesson forms of them (`template`), and its title. */
  template?: { id: string; title: string };
}

type State = SessionView['state'] | 'offline' | 'connecting';
type EndReason = Extract<ServerMessage, { type: 'session' }>['reason'];

/** The editor view (editor.ts): Monaco on the sandbox's ~/work, loaded on first use. */
export interface EditorView {
  /** Called each time its tab is shown (it sizes itself, and re-reads the file tree). */
  show(): void;
  /** The open file's path, when it has changes not saved to the sandbox. */
  unsaved(): string | undefined;
  /** Saves the open file; false when it could not (the editor says why). */
  save(): Promise<boolean>;
  /** Opens that file of ~/work (re-read from the sandbox). */
  open(path: string): Promise<void>;
  /** Names the node whose ~/work it edits (several nodes), or none (one sandbox). */
  where(node: string | undefined): void;
}

/** What the editor tells the workspace. */
export interface EditorEvents {
  /** The open file became saved or unsaved. */
  changed?(): void;
  /** A file was saved to the sandbox. */
  saved?(): void;
}

type GradeMessage = Extract<ServerMessage, { type: 'grade' }>;

const $ = <T extends Element>(root: ParentNode, sel: string) => root.querySelector<T>(sel)!;
const OPEN_KEY = 'dockyard:workspace';

export async function startWorkspace(root: HTMLElement, options: WorkspaceOptions): Promise<Workspace> {
  const { lesson, focus = false, playground = false } = options;
  const page = lesson ?? 'playground';
  $<HTMLElement>(root, '[data-start-panel]').hidden = true;
  $<HTMLElement>(root, '[data-live]').hidden = false;
  sessionStorage.setItem(OPEN_KEY, page);

  const status = $<HTMLElement>(root, '[data-status]');
  const restartButton = $<HTMLButtonElement>(root, '[data-restart]');
  const extendButton = $<HTMLButtonElement>(root, '[data-extend]');
  const resetButton = $<HTMLButtonElement>(root, '[data-reset]');
  const exercises = [...document.querySelectorAll<HTMLElement>('[data-exercise]')];
  let session: SessionView | undefined;
  let socket: WebSocket | undefined;
  let state: State = 'connecting';
  /** Why the sandbox ended, as the server said: kept for the socket's close that follows. */
  let endReason: EndReason | undefined;
  let retries = 0;
  let countdown: number | undefined;
  let resetting = false;
  /** The session's own end (REST's expiresAt); the socket's messages carry the idle end. */
  let hardEnd = 0;
  let confirmation = '';
  const queue: ClientMessage[] = [];
  const banner = new Banner($<HTMLElement>(root, '[data-notice]'));
  // Checks that do not pass yet show as to do, not failed, until the learner does something.
  const ACTED = `dockyard:acted:${page}`;
  let acted = sessionStorage.getItem(ACTED) === '1';
  const reports = new Map<string, GradeMessage['report']>();

  const send = (msg: ClientMessage) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
    else if (msg.type === 'grade') queue.push(msg);
  };

  const terminals = new Terminals(root, {
    input: (term, data) => {
      if (data.includes('\r')) markActed();
      send({ type: 'input', term, data });
    },
    resize: (term, cols, rows) => send({ type: 'resize', term, cols, rows }),
    ack: (term, bytes) => send({ type: 'ack', term, bytes }),
    // node1 is the default: an open without a node reads the same on a server before nodes.
    open: (term, cols, rows, node) =>
      send({ type: 'open', term, cols, rows, ...(node === FIRST_NODE ? {} : { node }) }),
    close: (term) => send({ type: 'close', term }),
  });
  terminals.nameNodes(playground);
  terminals.restore();
  if (focus) terminals.focus();
  const maps = new NodeMaps($<HTMLElement>(root, '[data-view-panel="map"]'));
  /** This connection's shells were asked for (once the server said which nodes there are). */
  let shellsOpened = false;

  const nodes = new Nodes(
    root,
    {
      sessionId: () => session?.id,
      changed(list) {
        terminals.keepNodes(list);
        terminals.nameNodes(playground || list.length > 1);
        maps.setNodes(list);
        if (editor) void editor.then((e) => e.where(list.length > 1 ? FIRST_NODE : undefined));
      },
      terminal(node, fresh = false, focus = true) {
        showView('terminal');
        if (fresh) terminals.openNew(node, focus);
        else if (terminals.showNode(node) && focus) terminals.focus();
      },
    },
    playground,
  );
  /** A lesson's nodes (and Swarm), added when the session has fewer: at the start and after a reset. */
  const ensureNodes = () =>
    options.nodes && options.nodes > 1
      ? nodes.ensure(options.nodes, options.template?.id, options.template?.title)
      : Promise.resolve();

  function markActed(now = true): void {
    if (acted === now) return;
    acted = now;
    if (now) sessionStorage.setItem(ACTED, '1');
    else sessionStorage.removeItem(ACTED);
    for (const report of reports.values()) renderGrade({ type: 'grade', live: true, report });
  }

  /** What the status says when the sandbox has ended. */
  const ENDED_TEXT = {
    ended: 'Your sandbox has ended. Start again to get a fresh one.',
    lost: 'Your sandbox was lost: the machine it ran on stopped answering, and what was in it is gone. Start again to get a fresh one on another machine.',
  };

  function show(next: State, text: string): void {
    state = next;
    root.dataset.state = next;
    status.textContent = text;
    restartButton.hidden = next !== 'expired';
    // A sandbox that has ended can be neither extended nor reset: only started again.
    extendButton.hidden = resetButton.hidden = next === 'expired';
    clearInterval(countdown);
  }

  function showSession(s: { state: SessionView['state']; expiresAt: number; reason?: EndReason }): void {
    if (s.state === 'creating') return show('creating', 'Starting a fresh sandbox…');
    if (s.state === 'expired') {
      terminals.sandboxEnded();
      endReason ??= s.reason;
      return show('expired', ENDED_TEXT[endReason === 'lost' ? 'lost' : 'ended']);
    }
    if (s.state === 'ready') {
      show('ready', '');
      const tick = () => {
        const left = hardEnd ? ` · ${formatLeft(hardEnd - Date.now())} left` : '';
        status.textContent = confirmation || `Sandbox ready${left}`;
      };
      tick();
      countdown = window.setInterval(tick, 15_000);
      return;
    }
    show('expiring', '');
    const tick = () => {
      const left = Math.max(0, Math.round((s.expiresAt - Date.now()) / 1000));
      status.textContent = `Sandbox ends in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}. Extend to keep it.`;
    };
    tick();
    countdown = window.setInterval(tick, 1000);
  }

  function showError(e: unknown): void {
    const body = e instanceof ApiFailure ? e.body : { title: 'Something went wrong', hint: 'Try again in a moment.' };
    show('offline', `${body.title}. ${body.hint}`);
  }

  async function ensureSession(): Promise<SessionView> {
    show('connecting', 'Starting your sandbox…');
    for (;;) {
      try {
        const r = await api<{ session: SessionView }>('POST', '/api/sessions', lesson ? { lesson } : {});
        hardEnd = r.session.expiresAt;
        return r.session;
      } catch (e) {
        if (e instanceof ApiFailure && e.body.retryAfterSeconds) {
          show('offline', `${e.body.title}. Trying again in ${e.body.retryAfterSeconds} s…`);
          await new Promise((r) => setTimeout(r, e.body.retryAfterSeconds! * 1000));
          continue;
        }
        throw e;
      }
    }
  }

  async function connect(): Promise<void> {
    if (!session) return;
    const { url } = await api<{ url: string }>('POST', `/api/sessions/${session.id}/ticket`, {});
    const ws = new WebSocket(new URL(url, location.href).toString().replace(/^http/, 'ws'));
    socket = ws;
    shellsOpened = false;
    ws.onopen = () => {
      retries = 0;
      for (const m of queue.splice(0)) ws.send(JSON.stringify(m));
      const live = exercises[0]?.dataset.exercise;
      if (live) send({ type: 'live', exercise: live });
    };
    ws.onmessage = (e) => handle(JSON.parse(String(e.data)) as ServerMessage);
    ws.onclose = (e) => {
      if (socket !== ws) return;
      socket = undefined;
      terminals.disconnected();
      if (e.code === 4404 || state === 'expired') return showSession({ state: 'expired', expiresAt: Date.now() });
      // A network blip or a server restart: say so, and come back by ourselves.
      const wait = Math.min(10_000, 500 * 2 ** retries++);
      show('offline', `Connection lost. Reconnecting in ${Math.ceil(wait / 1000)} s…`);
      setTimeout(() => void reconnect(), wait);
    };
  }

  async function reconnect(): Promise<void> {
    try {
      await connect();
    } catch (e) {
      if (e instanceof ApiFailure && e.body.code === 'SESSION_NOT_FOUND') {
        return showSession({ state: 'expired', expiresAt: Date.now() });
      }
      const wait = Math.min(10_000, 500 * 2 ** retries++);
      show('offline', `Connection lost. Reconnecting in ${Math.ceil(wait / 1000)} s…`);
      setTimeout(() => void reconnect(), wait);
    }
  }

  function handle(msg: ServerMessage): void {
    switch (msg.type) {
      case 'session':
        // The nodes first: tabs of nodes that are gone close rather than ask for their shells.
        if (msg.nodes) nodes.set(msg.nodes);
        if (msg.progress) nodes.progress(msg.progress);
        if (msg.reason === 'reset' && msg.state === 'creating') {
          resetting = true;
          terminals.disconnected();
          markActed(false);
        }
        showSession(msg);
        if (resetting && msg.state === 'ready') {
          // A fresh sandbox: fresh shells, on clean screens (the old shells' endings are noise).
          resetting = false;
          terminals.clearAll();
          terminals.openAll();
          shellsOpened = true;
          void ensureNodes();
        } else if (!shellsOpened && (msg.state === 'ready' || msg.state === 'expiring')) {
          shellsOpened = true;
          terminals.openAll();
        }
        return;
      case 'opened':
        return terminals.opened(msg.term, msg.reattached);
      case 'output':
        return terminals.output(msg.term, msg.data, msg.replay);
      case 'exit':
        // A reset ends the old shells; the tabs stay, with fresh shells in them.
        return resetting ? undefined : terminals.exited(msg.term);
      case 'ports':
        return renderPorts(root, msg.ports, (port) => openPreview(port));
      case 'grade':
        return renderGrade(msg);
      case 'map':
        return maps.update(msg.node ?? FIRST_NODE, msg.map);
      case 'error':
        // A stopped sandbox runs nothing any more: the status says so as the state it is (Reset stays).
        if (msg.code === 'SANDBOX_STOPPED') return show('offline', `${msg.title}. ${msg.hint}`);
        status.textContent = `${msg.title}. ${msg.hint}`;
        return;
      case 'watched':
        return showWatched($<HTMLElement>(root, '[data-watched-region]'), msg.watching, msg.by);
      case 'broadcast':
        return showBroadcast($<HTMLElement>(document, '[data-messages]'), msg);
      case 'pong':
        return;
    }
  }

  function renderGrade(msg: GradeMessage): void {
    reports.set(msg.report.exercise, msg.report);
    const el = exercises.find((x) => x.dataset.exercise === msg.report.exercise);
    if (!el) return;
    const wasPassed = el.dataset.passed === 'true';
    renderReport(el, msg.report, acted);
    if (msg.report.passed && !wasPassed) void showCourseComplete(el);
  }

  async function openPreview(port: number): Promise<void> {
    // Open the tab now, in the click, so that no pop-up blocker stops it; point it once we know where.
    const tab = window.open('about:blank', '_blank');
    try {
      const { url } = await api<{ url: string }>('POST', `/api/sessions/${session!.id}/previews`, { port });
      if (tab) tab.location.href = url;
      else location.assign(url);
    } catch (e) {
      tab?.close();
      showError(e);
    }
  }

  async function begin(): Promise<void> {
    try {
      session = await ensureSession();
      if (session.nodes) nodes.set(session.nodes);
      // Notes for this host's kernel (a lesson's <OnGvisor>) show; the others stay hidden.
      for (const note of document.querySelectorAll<HTMLElement>('[data-kernel-note]'))
        note.hidden = note.dataset.kernelNote !== session.kernel;
      if (session.kernel === 'gvisor') nodes.oneNodeOnly();
      // The lesson's exercises start from their starter files (the learner's own files are kept),
      // in place before the sandbox is shown as ready.
      for (const ex of exercises) {
        await api('POST', `/api/sessions/${session.id}/exercises/${ex.dataset.exercise}/start`, {});
      }
      showSession(session);
      await connect();
      await ensureNodes();
    } catch (e) {
      showError(e);
    }
  }

  extendButton.addEventListener('click', async () => {
    if (!session) return;
    extendButton.disabled = true;
    try {
      const r = await api<{ session: SessionView }>('POST', `/api/sessions/${session.id}/extend`, {});
      session = r.session;
      hardEnd = r.session.expiresAt;
      confirmation = `Extended: your sandbox now ends at ${formatClock(hardEnd)} (${formatLeft(hardEnd - Date.now())} left).`;
      setTimeout(() => (confirmation = ''), 8000);
      showSession({ state: 'ready', expiresAt: r.session.endsAt });
      setTimeout(() => state === 'ready' && showSession({ state: 'ready', expiresAt: r.session.endsAt }), 8100);
    } catch (e) {
      showError(e);
    } finally {
      extendButton.disabled = false;
    }
  });
  resetButton.addEventListener('click', async () => {
    if (
      !session ||
      !confirm('Reset replaces your sandbox with a fresh one: its containers, images and files are lost.')
    )
      return;
    try {
      await api('POST', `/api/sessions/${session.id}/reset`, {});
    } catch (e) {
      showError(e);
    }
  });
  // Views: the terminal is there from the start; the editor (Monaco) and the map load when first opened.
  const views = [...root.querySelectorAll<HTMLButtonElement>('[data-view]')];
  let editor: Promise<EditorView> | undefined;
  const editorPanel = $<HTMLElement>(root, '[data-view-panel="editor"]');
  const loadEditor = () => {
    editor ??= import('./editor.ts').then((m) => {
      const e = m.createEditor(editorPanel, () => session!.id, {
        changed: () => void warnUnsaved(),
        saved: () => markActed(),
      });
      // The editor works on node1's ~/work: with several nodes, it says so.
      e.where(nodes.list.length > 1 ? FIRST_NODE : undefined);
      return e;
    });
    return editor;
  };
  function showView(name: string): void {
    for (const b of views) b.setAttribute('aria-selected', String(b.dataset.view === name));
    for (const p of root.querySelectorAll<HTMLElement>('[data-view-panel]')) p.hidden = p.dataset.viewPanel !== name;
    if (name === 'terminal') terminals.select(terminals.active);
    if (name === 'editor' && session) void loadEditor().then((e) => e.show());
    if (name === 'map') maps.show();
  }
  for (const button of views) button.addEventListener('click', () => showView(button.dataset.view!));

  /** A file open in the editor with unsaved changes: commands in the terminal would read the old one. */
  async function warnUnsaved(): Promise<void> {
    const path = editor && (await editor).unsaved();
    if (!path) return banner.clear('unsaved');
    banner.show('unsaved', `\`${path}\` has changes you have not saved: commands read the saved file.`, [
      ['Save it', () => void editor?.then((e) => e.save())],
    ]);
  }

  /** Types a command at node1's prompt; inside a container's shell, says so first. */
  function type(command: string, anyway = false): void {
    terminals.showNode(FIRST_NODE);
    const prompt = innerShellPrompt(terminals.cursorLine());
    if (prompt && !anyway) {
      banner.show(
        'inside',
        `You are inside a container: \`${prompt}\` is the prompt of a shell running in it, and it has no \`docker\` command. Leave it first, then press Run again: type \`exit\` (or press Ctrl-D), or press Ctrl-P then Ctrl-Q to leave the container running.`,
        [['Run it here anyway', () => type(command, true)]],
      );
      return;
    }
    banner.clear('inside');
    terminals.focus();
    terminals.type(`${command}\r`);
  }

  restartButton.addEventListener('click', () => {
    endReason = undefined;
    terminals.clearAll();
    markActed(false);
    void begin();
  });
  for (const ex of exercises) {
    ex.querySelector('[data-check-now]')?.addEventListener('click', () => {
      markActed();
      const note = ex.querySelector('[data-check-note]');
      if (note) note.textContent = 'Checking…';
      send({ type: 'grade', exercise: ex.dataset.exercise! });
    });
  }

  await begin();
  return {
    get sessionId() {
      return session!.id;
    },
    async edit(path) {
      showView('editor');
      await (await loadEditor()).open(path);
    },
    async run(command) {
      showView('terminal');
      const ed = editor && (await editor);
      const path = ed?.unsaved();
      if (path && ed) {
        // The command may read the file (docker build reads the Dockerfile): it gets what the learner sees.
        if (!(await ed.save())) return showView('editor');
        terminals.say(`Saved ${path} first, so the command uses your changes.`);
      }
      type(command);
    },
    focus() {
      showView('terminal');
      terminals.focus();
    },
  };
}
