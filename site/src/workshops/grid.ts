// The dashboard's progress grid: a row per learner, a column per exercise. Rows are kept and
// updated in place between snapshots, so that a focused Watch button stays focused.
import { h } from '../lib/ui.ts';
import type { Cell, Dashboard } from '@dockyard/sandbox-server/protocol/dashboard';

type Learner = Dashboard['learners'][number];

interface Row {
  tr: HTMLTableRowElement;
  name: HTMLTableCellElement;
  state: HTMLElement;
  stuck: HTMLElement;
  watch: HTMLButtonElement;
  cells: Map<string, HTMLTableCellElement>;
}

/** What a cell shows, and what a screen reader says instead. */
const CELL_TEXT: Record<Cell['status'], (c: Cell) => [string, string]> = {
  passed: () => ['✓', 'passed'],
  attempted: (c) => [`${c.score}/${c.maxScore}`, `${c.score} of ${c.maxScore} points, not passed yet`],
  none: () => ['–', 'not started'],
};

export class ProgressGrid {
  readonly #table: HTMLTableElement;
  readonly #lessonTitles: Record<string, string>;
  readonly #onWatch: (learner: Learner) => void;
  readonly #rows = new Map<string, Row>();
  readonly #body = h('tbody');
  #learners = new Map<string, Learner>();
  #columns = '';

  constructor(table: HTMLTableElement, lessonTitles: Record<string, string>, onWatch: (learner: Learner) => void) {
    this.#table = table;
    this.#lessonTitles = lessonTitles;
    this.#onWatch = onWatch;
  }

  render(snapshot: Dashboard, watching: string | undefined): void {
    const columns = snapshot.exercises.map((e) => e.id).join(' ');
    if (columns !== this.#columns) {
      this.#columns = columns;
      this.#rows.clear();
      this.#body.replaceChildren();
      this.#table.replaceChildren(this.#head(snapshot), this.#body);
    }
    this.#learners = new Map(snapshot.learners.map((l) => [l.id, l]));
    snapshot.learners.forEach((learner, i) => {
      let row = this.#rows.get(learner.id);
      if (!row) this.#rows.set(learner.id, (row = this.#row(learner, snapshot)));
      this.#update(row, learner, snapshot, watching);
      const at = this.#body.children[i];
      if (at !== row.tr) this.#body.insertBefore(row.tr, at ?? null);
    });
    for (const [id, row] of this.#rows) {
      if (this.#learners.has(id)) continue;
      row.tr.remove();
      this.#rows.delete(id);
    }
  }

  /** Marks the learner being watched (or none): their Watch button shows pressed. */
  watching(learner: string | undefined): void {
    for (const [id, row] of this.#rows) row.watch.setAttribute('aria-pressed', String(id === learner));
  }

  watchButton(learner: string): HTMLButtonElement | undefined {
    return this.#rows.get(learner)?.watch;
  }

  #head(snapshot: Dashboard): HTMLTableSectionElement {
    return h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Learner'),
        h('th', { scope: 'col' }, 'Status'),
        ...snapshot.exercises.map((e) =>
          h(
            'th',
            { scope: 'col', class: 'exercise-col', 'data-exercise-col': e.id },
            h('span', { class: 'lesson' }, this.#lessonTitles[e.lesson] ?? e.lesson),
            e.title,
          ),
        ),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Terminal')),
      ),
    );
  }

  #row(learner: Learner, snapshot: Dashboard): Row {
    const name = h('th', { scope: 'row', class: 'who' });
    const state = h('span', { class: 'state' });
    const stuck = h('span', { class: 'stuck', 'data-stuck-badge': true }, 'stuck');
    const watch = h('button', { type: 'button', class: 'button secondary small', 'data-watch': learner.id }, 'Watch');
    watch.addEventListener('click', () => {
      const now = this.#learners.get(learner.id);
      if (now) this.#onWatch(now);
    });
    const cells = new Map(
      snapshot.exercises.map((e) => [
        e.id,
        h('td', { class: 'cell', 'data-learner': learner.id, 'data-exercise': e.id }),
      ]),
    );
    const tr = h(
      'tr',
      { 'data-learner-row': learner.id },
      name,
      h('td', { class: 'status' }, state, ' ', stuck),
      ...cells.values(),
      h('td', {}, watch),
    );
    return { tr, name, state, stuck, watch, cells };
  }

  #update(row: Row, learner: Learner, snapshot: Dashboard, watching: string | undefined): void {
    row.name.textContent = learner.displayName;
    row.tr.dataset.online = String(learner.online);
    // A playground session of several nodes says how many (the Watch panel names each terminal's node).
    const nodes = learner.nodes > 1 ? ` · ${learner.nodes} nodes` : '';
    row.state.textContent = learner.online ? `Online${nodes}` : 'Offline';
    row.tr.dataset.nodes = String(learner.nodes);
    row.stuck.hidden = !learner.stuck;
    row.stuck.title = `No progress for ${snapshot.stuckMinutes} minutes or more`;
    row.watch.setAttribute('aria-label', `Watch ${learner.displayName}'s terminal`);
    row.watch.setAttribute('aria-pressed', String(learner.id === watching));
    for (const [exercise, td] of row.cells) {
      const cell = learner.cells[exercise] ?? { status: 'none', score: 0, maxScore: 0, attempts: 0 };
      if (td.dataset.status === cell.status && td.dataset.score === String(cell.score)) continue;
      const [shown, spoken] = CELL_TEXT[cell.status](cell);
      td.dataset.status = cell.status;
      td.dataset.score = String(cell.score);
      td.title = cell.attempts ? `${cell.attempts} attempt${cell.attempts === 1 ? '' : 's'}` : '';
      td.replaceChildren(h('span', { 'aria-hidden': 'true' }, shown), h('span', { class: 'visually-hidden' }, spoken));
    }
  }
}
