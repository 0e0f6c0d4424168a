// The sandbox map view: the learner's networks as boxes holding their containers, each with its
// image, state and published ports, and a row of volumes with the containers that mount them.
// Redrawn from each `map` message the server pushes; plain DOM, loaded when its tab first opens.
// With several nodes, a switcher above it picks whose map is shown.
import type { MapView } from './node-maps.ts';

type MapData = Parameters<MapView['render']>[0];
type Container = MapData['containers'][number];

interface Box {
  /** data-network: the network's name ("none" for containers on no network). */
  key: string;
  label: string;
  note: string;
  containers: Container[];
}

const STYLE_ID = 'dy-map-style';
const CSS = `
.map{flex:1;min-height:0;padding:.75rem;overflow:auto;display:flex;flex-direction:column;gap:.75rem}
.map h3{font-size:1rem;margin:0}
.map-top{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1rem}
.map-nodes{display:flex;flex-wrap:wrap;gap:.3rem}
.map-nodes[hidden]{display:none}
.map-nodes button{font:inherit;font-family:var(--mono);font-size:.82rem;padding:.15rem .55rem;border:1px solid var(--border);border-radius:6px;background:var(--bg);color:var(--text);cursor:pointer}
.map-nodes button[aria-pressed=true]{background:var(--accent);border-color:var(--accent);color:var(--accent-text);font-weight:600}
.map h4{font-size:.9rem;margin:0 0 .4rem;display:flex;gap:.4rem;align-items:baseline;flex-wrap:wrap}
.map-note,.map-empty{color:var(--muted);font-size:.8rem;font-weight:400;margin:0}
.map-nets{display:flex;flex-wrap:wrap;gap:.75rem}
.map-net{flex:1 1 14rem;border:2px dashed var(--border);border-radius:var(--radius);padding:.6rem;background:var(--surface)}
.map-net[data-builtin]{border-style:dotted}
.map ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}
.map-chip{border:1px solid var(--border);border-left:4px solid var(--muted);border-radius:var(--radius);padding:.3rem .55rem;font-size:.85rem;background:var(--surface);color:var(--text);display:flex;flex-direction:column;gap:.1rem}
.map-chip[data-state=running]{border-left-color:var(--ok)}
.map-chip[data-state=exited],.map-chip[data-state=dead]{border-left-color:var(--bad)}
.map-chip b{font-family:var(--mono)}
.map-meta{color:var(--muted);font-size:.78rem}
.map-state{font-weight:600;color:var(--muted)}
[data-state=running]>.map-meta .map-state{color:var(--ok)}
[data-state=exited]>.map-meta .map-state,[data-state=dead]>.map-meta .map-state{color:var(--bad)}
.map-port{font-family:var(--mono);font-size:.78rem;color:var(--accent)}
.map-vols{border-top:1px solid var(--border);padding-top:.6rem}
.map-vols li{border:1px solid var(--border);border-radius:var(--radius);padding:.3rem .55rem;font-size:.85rem}
.map-vols code{color:var(--accent)}
`;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

/** Text shown to the eye, and its spoken form for screen readers (arrows read badly). */
function said(shown: string, spoken: string): DocumentFragment {
  const f = document.createDocumentFragment();
  const eye = el('span', '', shown);
  eye.setAttribute('aria-hidden', 'true');
  f.append(eye, el('span', 'visually-hidden', spoken));
  return f;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** Anonymous volumes are named with 64 hex digits: show the first 12, as `docker volume ls` users know them. */
const shortName = (name: string) => (/^[0-9a-f]{64}$/.test(name) ? name.slice(0, 12) : name);

/** Which box each container goes in: one per user network, then the default bridge, host, and none. */
function boxesOf(map: MapData): Box[] {
  const on = (net: string) => map.containers.filter((c) => c.networks.includes(net));
  const boxes: Box[] = map.networks
    .filter((n) => !n.builtin)
    .map((n) => ({ key: n.name, label: n.name, note: `${n.driver} network`, containers: on(n.name) }));
  const builtin: Box[] = [
    { key: 'bridge', label: 'default bridge', note: 'containers run without --network', containers: on('bridge') },
    { key: 'host', label: 'host', note: "the sandbox's own network", containers: on('host') },
    {
      key: 'none',
      label: 'no network',
      note: '--network none',
      containers: map.containers.filter((c) => c.networks.every((n) => n === 'none')),
    },
  ];
  return [...boxes, ...builtin.filter((b) => b.containers.length > 0)];
}

function chip(c: Container): HTMLLIElement {
  const li = el('li', 'map-chip');
  li.dataset.container = c.name;
  li.dataset.state = c.state;
  const meta = el('span', 'map-meta', `${c.image} · `);
  meta.append(el('span', 'map-state', c.state));
  li.append(el('b', '', c.name), meta);
  for (const p of c.ports) {
    const port = el('span', 'map-port');
    port.append(said(`${p.port}→${p.target}`, `port ${p.port} to ${p.target}`));
    li.append(port);
  }
  return li;
}

function networkBox(box: Box, builtin: boolean, n: number): HTMLElement {
  const section = el('section', 'map-net');
  section.dataset.network = box.key;
  if (builtin) section.dataset.builtin = '';
  const h = el('h4', '', box.label);
  h.id = `map-net-${n}`;
  h.append(el('span', 'map-note', box.note));
  section.setAttribute('aria-labelledby', h.id);
  section.append(h);
  if (box.containers.length === 0) section.append(el('p', 'map-empty', 'No containers'));
  else {
    const list = el('ul');
    list.setAttribute('aria-label', `Containers on ${box.label}`);
    list.append(...box.containers.map(chip));
    section.append(list);
  }
  return section;
}

function volumesRow(map: MapData): HTMLElement {
  const section = el('section', 'map-vols');
  section.setAttribute('aria-labelledby', 'map-vols-title');
  const h = el('h4', '', 'Volumes');
  h.id = 'map-vols-title';
  section.append(h);
  if (map.volumes.length === 0) {
    section.append(el('p', 'map-empty', 'No volumes yet: docker volume create, or -v name:/path.'));
    return section;
  }
  const list = el('ul');
  for (const v of map.volumes) {
    const li = el('li');
    li.dataset.volume = v.name;
    const name = el('code', '', shortName(v.name));
    name.title = v.name;
    const users = map.containers.filter((c) => c.volumes.includes(v.name)).map((c) => c.name);
    li.append(
      name,
      users.length ? said(` → ${users.join(', ')}`, `, mounted by ${users.join(', ')}`) : ' (not mounted)',
    );
    list.append(li);
  }
  section.append(list);
  return section;
}

/** One sentence for screen readers: "2 containers on app-net, 1 container on default bridge; 1 volume". */
export function summarise(map: MapData): string {
  const parts = boxesOf(map)
    .filter((b) => b.containers.length > 0)
    .map((b) => `${plural(b.containers.length, 'container')} on ${b.label}`);
  const text = parts.length ? parts.join(', ') : 'No containers yet';
  return map.volumes.length ? `${text}; ${plural(map.volumes.length, 'volume')}` : text;
}

/** `pick` is called when the learner picks another node's map. */
export function createMap(panel: HTMLElement, pick: (node: string) => void = () => undefined): MapView {
  if (!document.getElementById(STYLE_ID)) {
    const style = el('style', '', CSS);
    style.id = STYLE_ID;
    document.head.append(style);
  }
  const root = el('section', 'map');
  root.setAttribute('aria-labelledby', 'map-title');
  const title = el('h3', '', 'Sandbox map');
  title.id = 'map-title';
  const switcher = el('div', 'map-nodes');
  switcher.setAttribute('role', 'group');
  switcher.setAttribute('aria-label', 'Whose map');
  switcher.hidden = true;
  const top = el('div', 'map-top');
  top.append(title, switcher);
  const status = el('p', 'map-note', 'Waiting for your sandbox…');
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  const nets = el('div', 'map-nets');
  const vols = el('div');
  root.append(top, status, nets, vols);
  panel.replaceChildren(root);

  return {
    nodes(nodes, current) {
      switcher.hidden = nodes.length < 2;
      title.textContent = nodes.length < 2 ? 'Sandbox map' : `Map of ${current}`;
      const had = switcher.contains(document.activeElement);
      switcher.replaceChildren(
        ...nodes.map((node) => {
          const b = el('button', '', node);
          b.type = 'button';
          b.dataset.mapNode = node;
          b.setAttribute('aria-pressed', String(node === current));
          b.addEventListener('click', () => pick(node));
          return b;
        }),
      );
      if (had) switcher.querySelector<HTMLElement>('[aria-pressed=true]')?.focus();
    },
    render(map) {
      const builtin = new Set(map.networks.filter((n) => n.builtin).map((n) => n.name));
      nets.replaceChildren(...boxesOf(map).map((b, i) => networkBox(b, builtin.has(b.key) || b.key === 'none', i)));
      vols.replaceChildren(volumesRow(map));
      // Only a changed sentence is announced again.
      const text = summarise(map);
      if (status.textContent !== text) status.textContent = text;
    },
  };
}
