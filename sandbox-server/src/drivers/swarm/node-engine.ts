// How the server reaches the engine of each sandbox host: Swarm's managers do not relay commands
// to other nodes. A template names the API by the node's Swarm address or host name; a tcp:// one
// is Docker's TLS set-up (the host's engine trusts the client certificate in the TLS folder).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { SwarmNode } from './swarm-driver.ts';

/** Where a node's engine API is: the template with {addr} and {hostname} filled in. */
export function nodeEngineUrl(template: string, node: Pick<SwarmNode, 'addr' | 'hostname'>): string {
  return template.replaceAll('{addr}', node.addr).replaceAll('{hostname}', node.hostname);
}

/** The engine client of each node, by the template; tcp:// ones over TLS with the folder's ca.pem, cert.pem and key.pem. */
export function nodeEngines(template: string, tlsDir?: string): (node: SwarmNode) => Docker {
  const tls =
    tlsDir === undefined
      ? undefined
      : {
          ca: readFileSync(join(tlsDir, 'ca.pem')),
          cert: readFileSync(join(tlsDir, 'cert.pem')),
          key: readFileSync(join(tlsDir, 'key.pem')),
        };
  return (node) => {
    const url = nodeEngineUrl(template, node);
    if (url.startsWith('unix://')) return new Docker({ socketPath: url.slice('unix://'.length) });
    if (!tls) throw new Error(`${url} needs DOCKYARD_SWARM_TLS_DIR: the engines of sandbox hosts answer over TLS`);
    const { hostname, port } = new URL(url.replace(/^tcp:/, 'https:'));
    return new Docker({ protocol: 'https', host: hostname, port: Number(port || 2376), ...tls });
  };
}
