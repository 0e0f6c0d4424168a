// The ports the learner's containers publish, as buttons that open each one's preview.
import type { ServerMessage } from '@dockyard/sandbox-server/protocol';

type Port = Extract<ServerMessage, { type: 'ports' }>['ports'][number];

export function renderPorts(root: HTMLElement, ports: Port[], open: (port: number) => void): void {
  const list = root.querySelector<HTMLElement>('[data-ports]')!;
  list.replaceChildren();
  if (ports.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.innerHTML = 'None yet: publish one with <code>-p</code>.';
    list.append(li);
    return;
  }
  for (const p of ports) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'small-button accent';
    button.dataset.port = String(p.port);
    button.textContent = `Open port ${p.port}`;
    button.title = `${p.container} (${p.image}): ${p.port} → ${p.target}`;
    button.setAttribute('aria-label', `Open port ${p.port} of ${p.container} in a new tab`);
    button.addEventListener('click', () => open(p.port));
    li.append(button);
    list.append(li);
  }
}
