// The editor view: a file tree of the sandbox's ~/work beside Monaco. Loaded (with Monaco, bundled
// here by Vite, never from a CDN) only when the learner first opens the Editor tab. Only the editor
// core, the few features a learner needs and the languages of the course are imported; the one web
// worker is Monaco's own editor worker (no language-service workers).
import 'monaco-editor/features/codicon/register';
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/cursorUndo/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/indentation/register';
import 'monaco-editor/features/linesOperations/register';
import 'monaco-editor/features/multicursor/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/features/wordOperations/register';
import 'monaco-editor/languages/definitions/dockerfile/register';
import 'monaco-editor/languages/definitions/go/register';
import 'monaco-editor/languages/definitions/ini/register';
import 'monaco-editor/languages/definitions/javascript/register';
import 'monaco-editor/languages/definitions/markdown/register';
import 'monaco-editor/languages/definitions/python/register';
import 'monaco-editor/languages/definitions/shell/register';
import 'monaco-editor/languages/definitions/typescript/register';
import 'monaco-editor/languages/definitions/yaml/register';
import * as monaco from 'monaco-editor/editor/editor.api';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { api, ApiFailure } from './api.ts';
import type { EditorEvents, EditorView } from './workspace.ts';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

interface Entry {
  name: string;
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
}
interface FileContent {
  path: string;
  encoding: 'utf8' | 'base64';
  content: string;
  size: number;
}
interface OpenFile {
  path: string;
  readOnly: boolean;
  /** The model's alternative version id when it last matched the sandbox's copy. */
  savedVersion: number;
}

/** Monaco's language for a file, by its name. JSON is tokenized as JavaScript (no JSON worker). */
export function languageOf(path: string): string {
  const name = (path.split('/').pop() ?? '').toLowerCase();
  if (name.startsWith('dockerfile') || name.startsWith('containerfile') || name.endsWith('.dockerfile')) {
    return 'dockerfile';
  }
  if (/\.ya?ml$/.test(name)) return 'yaml';
  if (/\.(c|m)?jsx?$/.test(name) || name.endsWith('.json')) return 'javascript';
  if (/\.(c|m)?tsx?$/.test(name)) return 'typescript';
  if (name.endsWith('.py')) return 'python';
  if (name.endsWith('.go')) return 'go';
  if (/\.(sh|bash)$/.test(name)) return 'shell';
  if (/\.(md|markdown)$/.test(name)) return 'markdown';
  if (name === '.env' || name.startsWith('.env.') || /\.(env|ini|conf|cfg)$/.test(name)) return 'ini';
  return 'plaintext';
}

const STYLE = `
.ed { flex: 1; min-height: 16rem; display: grid; grid-template-columns: minmax(11.5rem, 30%) 1fr; margin: 0.4rem 0.75rem 0.75rem; border: 1px solid var(--border); border-radius: 6px; overflow: hidden; }
.ed-files { display: flex; flex-direction: column; min-height: 0; border-right: 1px solid var(--border); background: var(--bg); }
.ed-files-bar, .ed-bar { display: flex; align-items: center; gap: 0.35rem; padding: 0.3rem 0.45rem; border-bottom: 1px solid var(--border); min-height: 2.2rem; }
.ed-files-bar strong { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; font-size: 0.85rem; font-family: var(--mono); }
.ed button { font: inherit; font-size: 0.82rem; padding: 0.15rem 0.5rem; border-radius: 6px; border: 1px solid var(--border); background: var(--surface); color: var(--text); cursor: pointer; white-space: nowrap; }
.ed button:disabled { opacity: 0.5; cursor: default; }
.ed-tree, .ed-tree ul { list-style: none; margin: 0; padding: 0; }
.ed-tree { flex: 1; overflow: auto; padding: 0.25rem 0; font-family: var(--mono); font-size: 0.85rem; }
.ed-tree [role='treeitem'] { outline: none; }
.ed-tree .ed-row { display: flex; gap: 0.3rem; padding: 0.12rem 0.4rem; padding-left: calc(0.4rem + var(--level, 0) * 0.9rem); cursor: pointer; white-space: nowrap; }
.ed-tree .ed-row:hover { background: var(--code-bg); }
.ed-tree [role='treeitem'][aria-selected='true'] > .ed-row { background: var(--code-bg); font-weight: 600; }
.ed-tree [role='treeitem']:focus-visible > .ed-row { outline: 2px solid var(--accent); outline-offset: -2px; }
.ed-tree .ed-caret { width: 0.8rem; flex: none; color: var(--muted); }
.ed-tree[hidden], .ed-empty[hidden] { display: none; }
.ed-empty { margin: 0; padding: 0.5rem 0.6rem; color: var(--muted); font-size: 0.85rem; }
.ed-main { display: flex; flex-direction: column; min-width: 0; min-height: 0; }
.ed-title { font-family: var(--mono); font-size: 0.85rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ed-dirty { color: var(--accent); font-size: 0.9rem; }
.ed-dirty[hidden] { display: none; }
.ed-note { flex: 1; font-size: 0.82rem; color: var(--muted); text-align: right; }
.ed-note[data-kind='ok'] { color: var(--ok); }
.ed-note[data-kind='error'] { color: var(--bad); }
.ed-host { flex: 1; min-height: 12rem; position: relative; }
.ed-placeholder { position: absolute; inset: 0; display: grid; place-items: center; color: var(--muted); background: var(--surface); padding: 1rem; text-align: center; z-index: 5; margin: 0; }
.ed-placeholder[hidden] { display: none; }
`;

const html = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function createEditor(panel: HTMLElement, sessionId: () => string, events: EditorEvents = {}): EditorView {
  if (!document.getElementById('dockyard-editor-style')) {
    const style = document.createElement('style');
    style.id = 'dockyard-editor-style';
    style.textContent = STYLE;
    document.head.append(style);
  }
  panel.innerHTML = `
    <div class="ed" data-editor>
      <nav class="ed-files" aria-label="Files">
        <div class="ed-files-bar">
          <strong data-where>~/work</strong>
          <button type="button" data-new-file title="Create an empty file in ~/work">New file</button>
          <button type="button" data-refresh aria-label="Refresh the file list" title="Refresh the file list">↻</button>
        </div>
        <ul class="ed-tree" role="tree" aria-label="Files in ~/work" data-tree></ul>
        <p class="ed-empty" data-empty hidden>~/work is empty: make a new file, or create some in the terminal.</p>
      </nav>
      <section class="ed-main" aria-label="Editor">
        <div class="ed-bar">
          <span class="ed-title" data-title>No file open</span>
          <span class="ed-dirty" role="img" aria-label="unsaved changes" title="Unsaved changes" data-dirty hidden>●</span>
          <span class="ed-note" role="status" aria-live="polite" data-note></span>
          <button type="button" data-save disabled title="Save (Ctrl+S)">Save</button>
        </div>
        <div class="ed-host" data-host>
          <p class="ed-placeholder" data-placeholder>Pick a file on the left, or make a new one.</p>
        </div>
      </section>
    </div>`;
  const $ = <T extends HTMLElement>(sel: string) => panel.querySelector<T>(sel)!;
  const tree = $<HTMLUListElement>('[data-tree]');
  const empty = $<HTMLElement>('[data-empty]');
  const title = $<HTMLElement>('[data-title]');
  const dirtyMark = $<HTMLElement>('[data-dirty]');
  const note = $<HTMLElement>('[data-note]');
  const saveButton = $<HTMLButtonElement>('[data-save]');
  const placeholder = $<HTMLElement>('[data-placeholder]');

  const dark = matchMedia('(prefers-color-scheme: dark)');
  const editor = monaco.editor.create($<HTMLElement>('[data-host]'), {
    value: '',
    language: 'plaintext',
    theme: dark.matches ? 'vs-dark' : 'vs',
    automaticLayout: true,
    minimap: { enabled: false },
    lineNumbersMinChars: 3,
    lineDecorationsWidth: 8,
    // The pane is narrow beside the lesson: wrap rather than hide the ends of long lines.
    wordWrap: 'on',
    wrappingIndent: 'same',
    fontSize: 14,
    scrollBeyondLastLine: false,
    readOnly: true,
    renderWhitespace: 'selection',
    tabSize: 2,
    ariaLabel: 'File editor',
  });
  dark.addEventListener('change', () => monaco.editor.setTheme(dark.matches ? 'vs-dark' : 'vs'));

  /** Listings by folder ('' is ~/work itself); folders the learner expanded. */
  const listings = new Map<string, Entry[]>();
  const expanded = new Set<string>();
  let focusPath = '';
  let current: OpenFile | undefined;
  let noteTimer: number | undefined;

  const base = () => `/api/sessions/${encodeURIComponent(sessionId())}`;
  const q = (path: string) => `?path=${encodeURIComponent(path)}`;

  function say(text: string, kind: 'ok' | 'error' | 'info' = 'info', ms = 0): void {
    clearTimeout(noteTimer);
    note.textContent = text;
    note.dataset.kind = kind;
    if (ms) noteTimer = window.setTimeout(() => (note.textContent = ''), ms);
  }
  function sayError(e: unknown): void {
    const body = e instanceof ApiFailure ? e.body : { title: 'Something went wrong', hint: 'Try again in a moment.' };
    say(`${body.title}. ${body.hint}`, 'error');
  }

  const isDirty = () =>
    !!current && !current.readOnly && editor.getModel()!.getAlternativeVersionId() !== current.savedVersion;
  let wasDirty = false;
  function renderDirty(): void {
    const dirty = isDirty();
    dirtyMark.hidden = !dirty;
    saveButton.disabled = !dirty;
    if (dirty !== wasDirty) events.changed?.();
    wasDirty = dirty;
  }
  editor.onDidChangeModelContent(renderDirty);

  // ---- the file tree ----

  async function list(dir: string): Promise<void> {
    const r = await api<{ entries: Entry[] }>('GET', `${base()}/files${q(dir)}`);
    listings.set(dir, r.entries);
  }

  /** Re-reads ~/work and every expanded folder, then redraws the tree. */
  async function relist(): Promise<void> {
    try {
      await list('');
      const open = [...expanded];
      const results = await Promise.allSettled(open.map((d) => list(d)));
      // A folder that is gone (renamed, removed in the terminal) is simply collapsed.
      results.forEach((r, i) => r.status === 'rejected' && (expanded.delete(open[i]!), listings.delete(open[i]!)));
      renderTree();
    } catch (e) {
      sayError(e);
    }
  }

  function renderTree(): void {
    const hadFocus = tree.contains(document.activeElement);
    tree.replaceChildren();
    const root = listings.get('') ?? [];
    tree.hidden = root.length === 0;
    empty.hidden = root.length > 0;
    if (root.length === 0) return;
    const build = (entries: Entry[], into: HTMLUListElement, level: number) => {
      for (const entry of entries) {
        const li = document.createElement('li');
        li.setAttribute('role', 'treeitem');
        li.setAttribute('aria-level', String(level));
        li.tabIndex = -1;
        li.dataset.path = entry.path;
        const isDir = entry.kind === 'dir';
        if (isDir) {
          li.dataset.dir = entry.path;
          li.setAttribute('aria-expanded', String(expanded.has(entry.path)));
        } else {
          li.dataset.file = entry.path;
          li.setAttribute('aria-selected', String(current?.path === entry.path));
        }
        li.innerHTML = `<span class="ed-row" style="--level:${level - 1}"><span class="ed-caret" aria-hidden="true">${
          isDir ? (expanded.has(entry.path) ? '▾' : '▸') : ''
        }</span><span>${html(entry.name)}${isDir ? '/' : ''}</span></span>`;
        into.append(li);
        if (isDir && expanded.has(entry.path)) {
          const group = document.createElement('ul');
          group.setAttribute('role', 'group');
          build(listings.get(entry.path) ?? [], group, level + 1);
          li.append(group);
        }
      }
    };
    build(root, tree, 1);
    const items = visibleItems();
    const target = items.find((i) => i.dataset.path === focusPath) ?? items[0]!;
    target.tabIndex = 0;
    if (hadFocus) target.focus();
  }

  const visibleItems = () => [...tree.querySelectorAll<HTMLElement>('[role="treeitem"]')];

  function focusItem(item: HTMLElement | undefined): void {
    if (!item) return;
    for (const i of visibleItems()) i.tabIndex = -1;
    item.tabIndex = 0;
    focusPath = item.dataset.path!;
    item.focus();
  }

  async function toggle(dir: string, open = !expanded.has(dir)): Promise<void> {
    focusPath = dir;
    if (!open) {
      expanded.delete(dir);
      return renderTree();
    }
    try {
      await list(dir);
      expanded.add(dir);
      renderTree();
    } catch (e) {
      sayError(e);
    }
  }

  function activate(item: HTMLElement): void {
    focusItem(item);
    if (item.dataset.dir !== undefined) void toggle(item.dataset.dir);
    else void open(item.dataset.file!);
  }

  tree.addEventListener('click', (e) => {
    const item = (e.target as HTMLElement).closest<HTMLElement>('[role="treeitem"]');
    if (item) activate(item);
  });
  tree.addEventListener('keydown', (e) => {
    const item = (e.target as HTMLElement).closest<HTMLElement>('[role="treeitem"]');
    if (!item) return;
    const items = visibleItems();
    const at = items.indexOf(item);
    const dir = item.dataset.dir;
    const parent = item.parentElement?.closest<HTMLElement>('[role="treeitem"]') ?? undefined;
    switch (e.key) {
      case 'ArrowDown':
        focusItem(items[at + 1]);
        break;
      case 'ArrowUp':
        focusItem(items[at - 1]);
        break;
      case 'Home':
        focusItem(items[0]);
        break;
      case 'End':
        focusItem(items.at(-1));
        break;
      case 'ArrowRight':
        if (dir === undefined) return;
        if (expanded.has(dir))
          focusItem(items[at + 1]?.parentElement?.closest('[data-dir]') === item ? items[at + 1] : undefined);
        else void toggle(dir, true);
        break;
      case 'ArrowLeft':
        if (dir !== undefined && expanded.has(dir)) void toggle(dir, false);
        else focusItem(parent);
        break;
      case 'Enter':
      case ' ':
        activate(item);
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  // ---- opening and saving ----

  function confirmDiscard(next: string): boolean {
    return !isDirty() || confirm(`${current!.path} has unsaved changes. Open ${next} anyway and lose them?`);
  }

  async function open(path: string): Promise<void> {
    if (current?.path === path) return editor.focus();
    if (!confirmDiscard(path)) return;
    say('Opening…');
    let file: FileContent;
    try {
      file = await api<FileContent>('GET', `${base()}/file${q(path)}`);
    } catch (e) {
      return sayError(e);
    }
    const binary = file.encoding === 'base64';
    const old = editor.getModel();
    const model = monaco.editor.createModel(binary ? '' : file.content, binary ? 'plaintext' : languageOf(path));
    editor.setModel(model);
    old?.dispose();
    editor.updateOptions({ readOnly: binary });
    current = { path: file.path, readOnly: binary, savedVersion: model.getAlternativeVersionId() };
    placeholder.hidden = !binary;
    placeholder.textContent = binary
      ? `${file.path} is a binary file (${file.size} bytes): it cannot be edited here.`
      : '';
    title.textContent = file.path;
    title.title = `~/work/${file.path}`;
    say(binary ? 'Binary file: read-only' : '', 'info');
    focusPath = file.path;
    renderTree();
    renderDirty();
    if (!binary) editor.focus();
  }

  let saving: Promise<boolean> | undefined;
  /** Saves the open file: true once the sandbox has it (or there was nothing to save). */
  function save(): Promise<boolean> {
    saving ??= write().finally(() => (saving = undefined));
    return saving;
  }
  async function write(): Promise<boolean> {
    if (!current || current.readOnly || !isDirty()) return true;
    const model = editor.getModel()!;
    const version = model.getAlternativeVersionId();
    const file = current;
    say('Saving…');
    try {
      await api('PUT', `${base()}/file${q(file.path)}`, { content: model.getValue() });
      if (current === file) file.savedVersion = version;
      renderDirty();
      say('Saved', 'ok', 2000);
      events.saved?.();
      return true;
    } catch (e) {
      sayError(e);
      return false;
    }
  }
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => void save());
  saveButton.addEventListener('click', () => void save());
  // Ctrl/Cmd+S anywhere in the view saves, never the browser's "Save page as".
  panel.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
      e.preventDefault();
      void save();
    }
  });
  window.addEventListener('beforeunload', (e) => {
    if (isDirty()) e.preventDefault();
  });

  $<HTMLButtonElement>('[data-refresh]').addEventListener('click', () => void relist());
  $<HTMLButtonElement>('[data-new-file]').addEventListener('click', async () => {
    const name = prompt('Name of the new file, in ~/work (for example Dockerfile or app/main.py):')?.trim();
    if (!name) return;
    const path = name.replace(/^~?\/?work\//, '').replace(/^\/+/, '');
    if (!confirmDiscard(path)) return;
    try {
      // Never overwrite: a name that exists just opens that file.
      const exists = await api('GET', `${base()}/file${q(path)}`).then(
        () => true,
        (e: unknown) => {
          if (e instanceof ApiFailure && e.body.code === 'FILE_NOT_FOUND') return false;
          throw e;
        },
      );
      if (!exists) await api('PUT', `${base()}/file${q(path)}`, { content: '' });
      const parts = path.split('/').slice(0, -1);
      parts.forEach((_, i) => expanded.add(parts.slice(0, i + 1).join('/')));
      await relist();
      if (current?.path !== path) {
        current = undefined; // already confirmed
        await open(path);
      }
      if (exists) say(`${path} already exists: opened it`, 'info', 3000);
    } catch (e) {
      sayError(e);
    }
  });

  return {
    show() {
      void relist();
      editor.layout();
    },
    unsaved: () => (isDirty() ? current!.path : undefined),
    save,
    where(node) {
      const where = node ? `${node}:~/work` : '~/work';
      $<HTMLElement>('[data-where]').textContent = where;
      tree.setAttribute('aria-label', `Files in ${where}`);
    },
    async open(path) {
      // Re-read: the file may have been written since it was last open.
      if (current?.path === path && !isDirty()) current = undefined;
      await relist();
      await open(path);
    },
  };
}
