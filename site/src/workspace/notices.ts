// What an instructor does shows in the learner's workspace: a note while they watch the terminal,
// and their messages to everyone, each kept until the learner dismisses it.

const MAX_MESSAGES = 3;
const DISMISSED = 'dockyard:dismissed-messages';

/** Shows "👁 <by> is watching your terminal" in the region (aria-live) while watching, nothing otherwise. */
export function showWatched(region: HTMLElement, watching: boolean, by: string): void {
  if (!watching) return region.replaceChildren();
  const note = document.createElement('p');
  note.className = 'ws-watched-note';
  note.dataset.watched = '';
  const eye = document.createElement('span');
  eye.setAttribute('aria-hidden', 'true');
  eye.textContent = '👁 ';
  note.append(eye, `${by} is watching your terminal`);
  region.replaceChildren(note);
}

/** Adds "Message from <from>: <text>" to the messages (a role=status region), with a Dismiss button. */
export function showBroadcast(region: HTMLElement, msg: { from: string; text: string; at: number }): void {
  // The server sends recent messages again on every connect: show each once, and a dismissed one never again.
  const key = `${msg.at}:${msg.from}:${msg.text}`;
  const dismissed = JSON.parse(sessionStorage.getItem(DISMISSED) ?? '[]') as string[];
  if (dismissed.includes(key) || [...region.children].some((c) => (c as HTMLElement).dataset.key === key)) return;
  const box = document.createElement('div');
  box.className = 'ws-toast';
  box.dataset.broadcast = '';
  box.dataset.key = key;
  const p = document.createElement('p');
  const who = document.createElement('strong');
  who.textContent = `Message from ${msg.from}:`;
  p.append(who, ` ${msg.text}`);
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = '×';
  close.setAttribute('aria-label', `Dismiss the message from ${msg.from}`);
  close.addEventListener('click', () => {
    box.remove();
    const now = JSON.parse(sessionStorage.getItem(DISMISSED) ?? '[]') as string[];
    sessionStorage.setItem(DISMISSED, JSON.stringify([...now, key].slice(-20)));
  });
  box.append(p, close);
  region.append(box);
  while (region.children.length > MAX_MESSAGES) region.firstElementChild!.remove();
}
