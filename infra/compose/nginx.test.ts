// The nginx template's rules (Debian's nginx accepts them: test-support/nginx-server.int.test.ts).
import { describe, expect, it } from 'vitest';
import { nginxConfig } from './nginx.ts';

const base = { upstreams: ['127.0.0.1:8101', '127.0.0.1:8102'], listen: '8080', runDir: '/run/x' };

describe('nginxConfig', () => {
  it('proxies WebSockets with long quiet times and leaves a dead replica out', () => {
    const conf = nginxConfig(base);
    expect(conf).toContain('server 127.0.0.1:8101 max_fails=1 fail_timeout=10s;');
    expect(conf).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(conf).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(conf).toContain('proxy_read_timeout 3600s;');
    expect(conf).toContain('proxy_next_upstream error timeout http_504;');
    expect(conf).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(conf).toContain('pid /run/x/nginx.pid;');
  });

  it('takes previews only when given their upstreams and port', () => {
    expect(nginxConfig(base)).not.toContain('dockyard_previews');
    const conf = nginxConfig({ ...base, previewUpstreams: ['127.0.0.1:8201'], previewListen: '8081' });
    expect(conf).toContain('listen 8081;');
    expect(conf).toContain('proxy_pass http://dockyard_previews;');
    expect(conf).toContain('proxy_buffering off;');
  });

  it('limits account POSTs only when asked', () => {
    expect(nginxConfig(base)).not.toContain('limit_req');
    expect(nginxConfig({ ...base, accountPostsPerMinute: 10 })).toContain(
      'limit_req zone=account_posts burst=10 nodelay;',
    );
  });

  it('refuses an empty upstream list', () => {
    expect(() => nginxConfig({ ...base, upstreams: [] })).toThrow(/at least one upstream/);
  });
});
