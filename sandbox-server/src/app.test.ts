// The HTTP layer with a fake engine: health, error bodies from the catalogue, the site and its 404.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import type { Engine } from './engine/engine.ts';

function siteDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-site-'));
  writeFileSync(join(dir, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(dir, '404.html'), '<h1>lost</h1>');
  mkdirSync(join(dir, 'lessons/a-lesson'), { recursive: true });
  writeFileSync(join(dir, 'lessons/a-lesson/index.html'), '<h1>a lesson</h1>');
  return dir;
}

const up: Engine = { info: async () => ({ version: '20.10.24', apiVersion: '1.41' }) };
const down: Engine = {
  info: async () => {
    throw new Error('connect ENOENT /var/run/docker.sock');
  },
};

async function app(engine: Engine) {
  return buildApp({ config: loadConfig({ DOCKYARD_SITE_DIR: siteDir(), DOCKYARD_LOG_LEVEL: 'silent' }), engine });
}

describe('app', () => {
  it('refuses changes requested by a page of another origin, but not reads or tools without Origin', async () => {
    const a = await app(up);
    const foreign = await a.inject({
      method: 'POST',
      url: '/api/sessions',
      headers: { origin: 'http://p8080-0123456789abcdef.localhost:8081' },
    });
    expect(foreign.statusCode).toBe(403);
    expect((foreign.json() as { error: { code: string } }).error.code).toBe('ORIGIN_REFUSED');
    const own = await a.inject({ method: 'POST', url: '/api/nothing', headers: { origin: 'http://localhost:8080' } });
    expect(own.statusCode).toBe(404);
    expect((await a.inject({ method: 'POST', url: '/api/nothing' })).statusCode).toBe(404);
    const read = await a.inject({ url: '/api/health', headers: { origin: 'http://evil.test' } });
    expect(read.statusCode).toBe(200);
  });

  it('reports the engine version on /api/health', async () => {
    const res = await (await app(up)).inject({ url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', engine: { version: '20.10.24', apiVersion: '1.41' } });
  });

  it('answers 503 ENGINE_UNREACHABLE with a hint when the engine is down', async () => {
    const res = await (await app(down)).inject({ url: '/api/health' });
    expect(res.statusCode).toBe(503);
    const { error } = res.json() as { error: Record<string, string> };
    expect(error.code).toBe('ENGINE_UNREACHABLE');
    expect(error.hint).toMatch(/dockerd/);
    expect(error.detail).toContain('ENOENT');
  });

  it('serves the built site, the site 404 page for pages, and JSON 404s under /api', async () => {
    const a = await app(up);
    expect((await a.inject({ url: '/' })).body).toContain('home');
    const page = await a.inject({ url: '/nowhere' });
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('lost');
    for (const url of ['/lessons/a-lesson', '/lessons/a-lesson/', '/lessons/a-lesson?x=1']) {
      const lesson = await a.inject({ url });
      expect(lesson.statusCode, url).toBe(200);
      expect(lesson.body).toContain('a lesson');
    }
    expect((await a.inject({ url: '/lessons/../../etc' })).statusCode).toBe(404);
    const api = await a.inject({ url: '/api/nowhere' });
    expect(api.statusCode).toBe(404);
    expect((api.json() as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
