import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeEngines, nodeEngineUrl } from './node-engine.ts';

const node = { id: 'n1', addr: '10.0.0.7', hostname: 'sbx-1' };
/** What the client was made with (docker-modem keeps its options as fields). */
const modemOf = (d: { modem: unknown }) => d.modem as Record<string, unknown>;

describe('node engines', () => {
  it('fill the template with the node address and host name', () => {
    expect(nodeEngineUrl('tcp://{addr}:2376', node)).toBe('tcp://10.0.0.7:2376');
    expect(nodeEngineUrl('unix:///srv/{hostname}/docker.sock', node)).toBe('unix:///srv/sbx-1/docker.sock');
  });

  it('reach a unix socket as it is, and a tcp address over TLS with the folder’s certificate', () => {
    const unix = nodeEngines('unix:///srv/{hostname}/docker.sock')(node);
    expect(modemOf(unix).socketPath).toBe('/srv/sbx-1/docker.sock');
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-- ${f} --`);
    const tcp = nodeEngines('tcp://{addr}:2376', dir)(node);
    const m = modemOf(tcp);
    expect([m.protocol, m.host, m.port]).toEqual(['https', '10.0.0.7', 2376]);
    expect(String(m.ca)).toBe('-- ca.pem --');
  });

  it('refuse a tcp address without the TLS folder, saying which setting is missing', () => {
    expect(() => nodeEngines('tcp://{addr}:2376')(node)).toThrow(/DOCKYARD_SWARM_TLS_DIR/);
  });
});
