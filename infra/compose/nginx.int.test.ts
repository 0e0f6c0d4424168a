// The compose deployment's nginx.conf, as `npm run compose` writes it, is one Debian's nginx accepts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { composeNginxConfig, replicasOf } from './generated.ts';
import { readComposeSettings } from './settings.ts';

describe("the deployment's nginx.conf", () => {
  it("is valid for Debian's nginx, with compose.yaml's replicas as upstreams", () => {
    const compose = readFileSync(join(import.meta.dirname, 'compose.yaml'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-nginx-t-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const conf = composeNginxConfig(replicasOf(compose), readComposeSettings({}));
    // Its paths are the container's (/tmp, its stdout); here they go to the test's own folder.
    writeFileSync(
      join(dir, 'nginx.conf'),
      conf.replaceAll(' /tmp/', ` ${dir}/`).replace('access_log /dev/stdout', `access_log ${dir}/access.log`),
    );
    const check = () =>
      execFileSync('/usr/sbin/nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'pipe' });
    expect(check).not.toThrow();
    expect(conf).toContain('server 127.0.0.1:8101 max_fails=1 fail_timeout=5s;');
    expect(conf).toContain('server 127.0.0.1:8202 max_fails=1 fail_timeout=5s;');
  });
});
