// The playground page's script: the workspace on its own (started by its button, or at once when
// this tab had it open or the page was asked for an example), and `?example=<id>`: one of the
// course's examples written into a folder of its own, ~/work/examples/<id>, with the files it
// needs, opened in the editor and run there in a node1 terminal. Its own folder, because the
// playground is the learner's one session: their lesson's files in ~/work stay as they are.
import { api } from './api.ts';
import type { Example } from '../lib/examples.ts';
import type { Workspace } from './workspace.ts';

const root = document.querySelector<HTMLElement>('[data-workspace]');
const note = document.querySelector<HTMLElement>('[data-example-note]');
let workspace: Promise<Workspace> | undefined;

function start(focus = false): Promise<Workspace> {
  workspace ??= import('./workspace.ts').then((m) => m.startWorkspace(root!, { playground: true, focus }));
  return workspace;
}

type Part = string | [text: string, href: string] | { code: string };

/** Says something about the example above the workspace: `parts` are text, links and code. */
function tell(kind: 'info' | 'error', ...parts: Part[]): void {
  const p = document.createElement('p');
  for (const part of parts) {
    if (typeof part === 'string') p.append(part);
    else if ('code' in part) {
      const code = document.createElement('code');
      code.textContent = part.code;
      p.append(code);
    } else {
      const a = document.createElement('a');
      a.textContent = part[0];
      a.href = part[1];
      p.append(a);
    }
  }
  note!.dataset.kind = kind;
  note!.replaceChildren(p);
}

async function findExample(id: string): Promise<Example | undefined> {
  const res = await fetch('/playground/examples.json').catch(() => undefined);
  if (!res?.ok) throw new Error('no list');
  return ((await res.json()) as Example[]).find((e) => e.id === id);
}

/**
 * Writes the example and its build context into its folder, opens it, and runs it: once per tab, so
 * a reload keeps the learner's edits.
 */
async function loadExample(ex: Example): Promise<void> {
  const w = await start();
  const key = `dockyard:example:${w.sessionId}:${ex.id}`;
  const lesson: [string, string] = [ex.title, `/lessons/${ex.lesson}`];
  const dir = `examples/${ex.id}`;
  const where = `~/work/${dir}/${ex.file}`;
  if (sessionStorage.getItem(key)) {
    tell('info', `${where}, the example from the lesson `, lesson, ', is in your sandbox.');
    return;
  }
  const context = Object.entries(ex.files ?? {});
  const beside = context.length ? ' and the files it needs' : '';
  tell('info', `Putting ${ex.file}${beside}, from the lesson “${ex.title}”, in ~/work/${dir}…`);
  // Its build context first, so that the example file, last, replaces any version of it there.
  const writes = [...context, [ex.file, ex.content] as const];
  try {
    for (const [file, content] of writes) {
      const path = encodeURIComponent(`${dir}/${file}`);
      await api('PUT', `/api/sessions/${encodeURIComponent(w.sessionId)}/file?path=${path}`, { content });
    }
  } catch (e) {
    const body = (e as { body?: { title: string; hint: string } }).body;
    tell('error', `The example could not be written: ${body ? `${body.title}. ${body.hint}` : 'try again.'}`);
    return;
  }
  sessionStorage.setItem(key, '1');
  await w.edit(`${dir}/${ex.file}`);
  const run = ex.run && `cd ~/work/${dir} && ${ex.run}`;
  if (run) await w.run(run);
  const ran: Part[] = run ? [' ', { code: run }, " runs it in node1's terminal."] : [];
  tell('info', `The example from the lesson `, lesson, ` is in ${where}, open in the editor.`, ...ran);
}

if (root && note) {
  root.querySelector('[data-start]')?.addEventListener('click', () => void start(true));
  const id = new URLSearchParams(location.search).get('example');
  if (id) {
    findExample(id).then(
      (ex) => {
        if (ex) return loadExample(ex);
        tell('error', `There is no example “${id}”. `, ['Open the playground without one', '/playground/'], '.');
        if (sessionStorage.getItem('dockyard:workspace')) void start();
      },
      () => tell('error', 'The list of examples could not be loaded. Reload the page to try again.'),
    );
  } else if (sessionStorage.getItem('dockyard:workspace')) void start();
}
