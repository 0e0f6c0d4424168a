// The sandbox map of each node: the last one the server pushed for every node, and whose is shown.
// The map view itself (map.ts, plain DOM) is loaded when its tab is first opened.
import type { ServerMessage } from '@dockyard/sandbox-server/protocol';
import { FIRST_NODE } from './term-ids.ts';

export type MapData = Extract<ServerMessage, { type: 'map' }>['map'];

/** The sandbox map view (map.ts). */
export interface MapView {
  render(map: MapData): void;
  /** The session's nodes, and whose map is shown: a switcher when there are several. */
  nodes(nodes: readonly string[], current: string): void;
}

export class NodeMaps {
  readonly #maps = new Map<string, MapData>();
  #node = FIRST_NODE;
  #nodes: readonly string[] = [FIRST_NODE];
  #view: Promise<MapView> | undefined;
  readonly #panel: HTMLElement;

  constructor(panel: HTMLElement) {
    this.#panel = panel;
  }

  /** A node's map, as the server pushed it (`map` messages). */
  update(node: string, map: MapData): void {
    this.#maps.set(node, map);
    if (this.#view && node === this.#node) void this.#view.then((v) => v.render(map));
  }

  /** The session's nodes now: maps of nodes that are gone are dropped, node1's shown if it was theirs. */
  setNodes(nodes: readonly string[]): void {
    this.#nodes = nodes;
    for (const node of this.#maps.keys()) if (!nodes.includes(node)) this.#maps.delete(node);
    if (!nodes.includes(this.#node)) this.#node = FIRST_NODE;
    if (this.#view) void this.#view.then((v) => this.#draw(v));
  }

  /** Shows the map (loading its view the first time). */
  show(): void {
    this.#view ??= import('./map.ts').then((m) =>
      m.createMap(this.#panel, (node) => {
        this.#node = node;
        this.show();
      }),
    );
    void this.#view.then((v) => this.#draw(v));
  }

  #draw(view: MapView): void {
    view.nodes(this.#nodes, this.#node);
    const map = this.#maps.get(this.#node);
    if (map) view.render(map);
  }
}
