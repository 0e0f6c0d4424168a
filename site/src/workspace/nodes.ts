// The session's nodes in the workspace: a bar naming each (a button to its terminal, a remove
// button after confirming), Add node and the Swarm templates in the playground, the progress of a
// template while it runs, and a lesson's nodes made sure of. The server says which nodes there are.
import { api, ApiFailure, type SessionView } from './api.ts';

export type Progress = { title: string; step: number; of: number };

/** What the nodes bar asks of the workspace. */
export interface NodesHost {
  sessionId(): string | undefined;
  /** The session's nodes changed (tabs of gone nodes close; tabs name their node). */
  changed(nodes: readonly string[]): void;
  /**
   * Shows a terminal on that node (its first tab, or a new one); `fresh` opens a new one. `focus`:
   * the keyboard goes there (the learner asked for it, not a page setting itself up).
   */
  terminal(node: string, fresh?: boolean, focus?: boolean): void;
}

const FIRST = 'node1';

export class Nodes {
  #nodes: string[] = [FIRST];
  #busy = false;
  readonly #bar: HTMLElement;
  readonly #list: HTMLElement;
  readonly #status: HTMLElement;
  readonly #meter: HTMLProgressElement;
  readonly #buttons: HTMLButtonElement[];
  readonly #host: NodesHost;
  /** The playground shows the bar even with one node. */
  readonly #always: boolean;
  #statusTimer: number | undefined;

  /** `root` holds [data-nodes-bar] with [data-node-list], [data-nodes-status], [data-nodes-progress]. */
  constructor(root: HTMLElement, host: NodesHost, always: boolean) {
    const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
    this.#bar = $('[data-nodes-bar]');
    this.#list = $('[data-node-list]');
    this.#status = $('[data-nodes-status]');
    this.#meter = $<HTMLProgressElement>('[data-nodes-progress]');
    this.#buttons = [...this.#bar.querySelectorAll<HTMLButtonElement>('[data-add-node], [data-template]')];
    this.#host = host;
    this.#always = always;
    this.#bar.querySelector('[data-add-node]')?.addEventListener('click', () => void this.add());
    for (const b of this.#bar.querySelectorAll<HTMLButtonElement>('[data-template]')) {
      b.addEventListener('click', () => void this.template(b.dataset.template!, b.textContent!.trim()));
    }
    this.#render();
  }

  get list(): readonly string[] {
    return this.#nodes;
  }

  /** The nodes the server says the session has now. */
  set(nodes: readonly string[]): void {
    if (nodes.join() !== this.#nodes.join()) {
      this.#nodes = [...nodes];
      this.#render();
    }
    // Always: terminals restored after a reload may be on nodes that are gone.
    this.#host.changed(this.#nodes);
  }

  /** Adds a node and opens a terminal on it. */
  async add(): Promise<void> {
    await this.#run('Adding a node…', async (id) => {
      const r = await api<{ session: SessionView; node: string }>('POST', `/api/sessions/${id}/nodes`, {});
      this.set(r.session.nodes ?? [...this.#nodes, r.node]);
      this.#host.terminal(r.node, true);
      this.#say(`${r.node} is ready: its terminal is open.`, 'ok');
    });
  }

  async remove(node: string): Promise<void> {
    if (!confirm(`Remove ${node}? Its containers, images and files are lost; the other nodes stay.`)) return;
    await this.#run(`Removing ${node}…`, async (id) => {
      const r = await api<{ session: SessionView }>('DELETE', `/api/sessions/${id}/nodes/${node}`);
      this.set(r.session.nodes ?? this.#nodes.filter((n) => n !== node));
      this.#say(`${node} was removed.`, 'ok');
      this.#list.querySelector<HTMLElement>('[data-node]')?.focus();
    });
  }

  /** Forms a Swarm (adding the nodes it needs), then opens a terminal on each node that has none. */
  async template(template: string, title: string): Promise<void> {
    await this.#run(`Forming a Swarm: ${title}…`, async (id) => {
      const r = await api<{ session: SessionView }>('POST', `/api/sessions/${id}/template`, { template });
      this.progress(undefined);
      if (r.session.nodes) this.set(r.session.nodes);
      // This page's session has it now: the next lesson page asking for it need not form it again.
      sessionStorage.setItem(this.#swarmKey(), template);
      this.#openMissing();
      this.#say(`Your Swarm is ready: ${title}. node1 is its first manager.`, 'ok');
    });
  }

  /** A lesson's nodes: added (or formed into its template's Swarm) when the session has fewer. */
  async ensure(count: number, template?: string, title = template ?? ''): Promise<void> {
    const formed = !template || sessionStorage.getItem(this.#swarmKey()) === template;
    if (this.#nodes.length >= count && formed) return this.#openMissing();
    if (template) return this.template(template, title);
    await this.#run(`Starting the ${count} nodes this lesson uses…`, async (id) => {
      while (this.#nodes.length < count) {
        const r = await api<{ session: SessionView; node: string }>('POST', `/api/sessions/${id}/nodes`, {});
        this.set(r.session.nodes ?? [...this.#nodes, r.node]);
      }
      this.#openMissing();
      this.#say(`Your ${count} nodes are ready: each has a terminal.`, 'ok');
    });
  }

  /**
   * On a gVisor host a session has one node (gVisor never sees a network added to a running
   * sandbox): Add node and the templates go, and the bar says why instead.
   */
  oneNodeOnly(): void {
    for (const b of this.#buttons) b.hidden = true;
    const swarm = this.#bar.querySelector<HTMLElement>('[data-swarm-row]');
    if (swarm) swarm.hidden = true;
    // A lesson's bar stays hidden: one that needs nodes says why when it asks for them.
    if (this.#always)
      this.#say(
        'This Dockyard host runs sandboxes under gVisor, for extra isolation: a session has one node here, so Add node and Swarm templates are not available.',
        'info',
        0,
      );
  }

  /** A step of a template under way (the server's `session` messages), or none. */
  progress(p: Progress | undefined): void {
    // A last step that comes after this tab's own answer has nothing to add to what it said.
    if (p && p.step >= p.of && !this.#busy && this.#status.dataset.kind === 'ok') return;
    this.#meter.hidden = !p;
    if (!p) return;
    this.#meter.max = p.of;
    this.#meter.value = p.step;
    // The last step stays a while (a template started in another tab has no answer here to end it).
    const last = p.step >= p.of;
    this.#say(`Step ${p.step} of ${p.of}: ${p.title}`, 'info', last ? 8000 : 0);
    if (last) setTimeout(() => (this.#meter.hidden = true), 8000);
  }

  #swarmKey(): string {
    return `dockyard:swarm:${this.#host.sessionId()}`;
  }

  #openMissing(): void {
    for (const node of this.#nodes) this.#host.terminal(node, false, false);
    this.#host.terminal(FIRST, false, false);
  }

  /** One change at a time: the buttons wait, and a failure says what and what to do. */
  async #run(doing: string, work: (sessionId: string) => Promise<void>): Promise<void> {
    const id = this.#host.sessionId();
    if (!id || this.#busy) return;
    this.#busy = true;
    this.#renderBusy();
    this.#say(doing, 'info', 0);
    try {
      await work(encodeURIComponent(id));
    } catch (e) {
      this.progress(undefined);
      const body = e instanceof ApiFailure ? e.body : { title: 'Something went wrong', hint: 'Try again in a moment.' };
      const detail = 'detail' in body && body.detail ? ` ${body.detail}` : '';
      this.#say(`${body.title}.${detail} ${body.hint}`, 'error', 0);
    } finally {
      this.#busy = false;
      this.#renderBusy();
    }
  }

  #say(text: string, kind: 'ok' | 'error' | 'info', ms = 8000): void {
    clearTimeout(this.#statusTimer);
    this.#status.textContent = text;
    this.#status.dataset.kind = kind;
    this.#showBar();
    if (ms) {
      this.#statusTimer = window.setTimeout(() => {
        this.#status.textContent = '';
        this.#showBar();
      }, ms);
    }
  }

  /**
   * Shown with several nodes (always in the playground), and while there is news: a lesson's nodes
   * on their way, a failure.
   */
  #showBar(): void {
    this.#bar.hidden = !this.#always && this.#nodes.length < 2 && !this.#busy && !this.#status.textContent;
  }

  #renderBusy(): void {
    this.#bar.toggleAttribute('data-busy', this.#busy);
    this.#showBar();
    for (const b of [...this.#buttons, ...this.#list.querySelectorAll<HTMLButtonElement>('[data-remove-node]')]) {
      b.disabled = this.#busy;
    }
  }

  #render(): void {
    this.#showBar();
    this.#list.replaceChildren(
      ...this.#nodes.map((node) => {
        const li = document.createElement('li');
        li.className = 'ws-node';
        const show = document.createElement('button');
        show.type = 'button';
        show.dataset.node = node;
        show.textContent = node;
        show.title = `Show a terminal on ${node}`;
        show.addEventListener('click', () => this.#host.terminal(node));
        li.append(show);
        if (node !== FIRST) {
          const remove = document.createElement('button');
          remove.type = 'button';
          remove.dataset.removeNode = node;
          remove.textContent = '×';
          remove.disabled = this.#busy;
          remove.setAttribute('aria-label', `Remove ${node}`);
          remove.title = `Remove ${node} and everything on it`;
          remove.addEventListener('click', () => void this.remove(node));
          li.append(remove);
        }
        return li;
      }),
    );
  }
}
