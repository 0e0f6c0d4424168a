// The Dockerfile as the grader reads it: stages, bases, tags, aliases, the final USER, and when
// each lint rule speaks up and when it stays quiet.
import { describe, expect, it } from 'vitest';
import { finalInstructions, finalUser, isNonRoot, lint, parseDockerfile, type DockerfileRule } from './dockerfile.ts';

const df = (...lines: string[]) => parseDockerfile(`${lines.join('\n')}\n`);
const findings = (rule: DockerfileRule, ...lines: string[]) => lint(df(...lines), rule);

describe('parseDockerfile', () => {
  it('reads one stage: its base, tag and instructions with their lines', () => {
    const d = df('# a comment', 'FROM node:24', 'WORKDIR /app', 'COPY server.js .', 'CMD ["node", "server.js"]');
    expect(d.stages).toEqual([
      {
        from: 'node:24',
        baseImage: 'node',
        tag: '24',
        alias: null,
        instructions: [
          { keyword: 'WORKDIR', args: '/app', flags: '', line: 3 },
          { keyword: 'COPY', args: 'server.js .', flags: '', line: 4 },
          { keyword: 'CMD', args: '["node", "server.js"]', flags: '', line: 5 },
        ],
      },
    ]);
    expect(d.instructions.map((i) => i.keyword)).toEqual(['FROM', 'WORKDIR', 'COPY', 'CMD']);
  });

  it('has no stage without a FROM', () => {
    expect(df('RUN echo hi').stages).toEqual([]);
    expect(df('').stages).toEqual([]);
  });

  it('splits name, tag and digest, a registry port being no tag', () => {
    const bases = df(
      'FROM debian',
      'FROM debian:12-slim',
      'FROM localhost:5000/app',
      'FROM localhost:5000/team/app:1.0',
      'FROM nginx@sha256:0123abcd',
      'FROM nginx:1.25@sha256:0123abcd',
      'FROM scratch',
    ).stages.map((s) => [s.baseImage, s.tag]);
    expect(bases).toEqual([
      ['debian', null],
      ['debian', '12-slim'],
      ['localhost:5000/app', null],
      ['localhost:5000/team/app', '1.0'],
      ['nginx', null],
      ['nginx', '1.25'],
      ['scratch', null],
    ]);
  });

  it('names stages by alias (any case) and resolves FROM <stage> to that stage’s base', () => {
    const d = df(
      'FROM golang:1.23 AS Build',
      'RUN go build -o /hello',
      'from build as test',
      'RUN go test',
      'FROM BUILD',
      'FROM scratch',
      'COPY --from=build /hello /hello',
    );
    expect(d.stages.map((s) => [s.from, s.baseImage, s.tag, s.alias])).toEqual([
      ['golang:1.23', 'golang', '1.23', 'build'],
      ['build', 'golang', '1.23', 'test'],
      ['BUILD', 'golang', '1.23', null],
      ['scratch', 'scratch', null, null],
    ]);
  });

  it('does not resolve a name to a stage defined later, or to no stage at all', () => {
    const d = df('FROM app:1', 'FROM node:24 AS app');
    expect(d.stages[0]).toMatchObject({ baseImage: 'app', tag: '1' });
  });

  it('uppercases keywords, joins continued lines, and keeps ARGs before the first FROM out of stages', () => {
    const d = df('ARG BASE=node:24', 'from node:24', 'run apt-get update \\', '  && apt-get install -y curl');
    expect(d.instructions[0]).toEqual({ keyword: 'ARG', args: 'BASE=node:24', flags: '', line: 1 });
    expect(d.stages[0]!.instructions).toHaveLength(1);
    expect(d.stages[0]!.instructions[0]).toMatchObject({ keyword: 'RUN', line: 3 });
    expect(d.stages[0]!.instructions[0]!.args).toMatch(/^apt-get update\s+&& apt-get install -y curl$/);
  });

  it('leaves flags out of the arguments (--platform, --from, --chown)', () => {
    const d = df('FROM --platform=linux/amd64 golang:1.23 AS build', 'COPY --from=build --chown=1:1 /a /b');
    expect(d.stages[0]).toMatchObject({ baseImage: 'golang', tag: '1.23', alias: 'build' });
    expect(d.instructions[1]!.args).toBe('/a /b');
  });
});

describe('finalUser and isNonRoot', () => {
  it('is the last USER of the final stage, "" when there is none', () => {
    expect(finalUser(df('FROM node:24'))).toBe('');
    expect(finalUser(df('FROM node:24', 'USER root', 'USER node'))).toBe('node');
    expect(finalUser(df('FROM node:24', 'USER node', 'RUN id', 'USER 0'))).toBe('0');
  });

  it('ignores a USER of an earlier stage the final stage is not built on', () => {
    expect(finalUser(df('FROM node:24 AS build', 'USER node', 'FROM nginx:1.25', 'COPY --from=build /a /a'))).toBe('');
  });

  it('inherits the USER of the stage the final stage is built on, through any number of stages', () => {
    const chain = df(
      'FROM node:24 AS base',
      'USER node',
      'FROM base AS deps',
      'RUN npm ci',
      'FROM busybox:1.35 AS other',
      'USER 1000',
      'FROM deps',
      'CMD ["node", "server.js"]',
    );
    expect(finalUser(chain)).toBe('node');
    expect(finalInstructions(chain).map((i) => i.line)).toEqual([2, 4, 8]);
    expect(finalUser(df('FROM node:24 AS base', 'USER node', 'FROM base', 'USER root'))).toBe('root');
  });

  it('counts root, 0 and root or 0 with any group as root; anything else set as not root', () => {
    for (const u of ['', 'root', '0', 'root:root', '0:0', ' root ']) expect(isNonRoot(u), u).toBe(false);
    for (const u of ['node', '1000', '1000:1000', 'app:root', 'rooted', '10']) expect(isNonRoot(u), u).toBe(true);
  });
});

describe('lint', () => {
  describe('no-latest-base', () => {
    it('reports a base without a tag or with latest', () => {
      expect(findings('no-latest-base', 'FROM debian')).toEqual([
        'FROM debian has no pinned tag: name a version, like debian:1.2',
      ]);
      expect(findings('no-latest-base', 'FROM node:latest AS build', 'FROM nginx:1.25')).toEqual([
        'FROM node:latest has no pinned tag: name a version, like node:1.2',
      ]);
    });

    it('accepts a tag, a digest, scratch and a previous stage', () => {
      expect(
        findings(
          'no-latest-base',
          'FROM golang:1.23 AS build',
          'FROM build AS test',
          'FROM nginx@sha256:0123abcd',
          'FROM scratch',
        ),
      ).toEqual([]);
    });
  });

  describe('no-root-user', () => {
    it('reports a final stage with no USER, or USER root or 0', () => {
      const said = ['the final stage runs as root: add a USER with a non-root user'];
      expect(findings('no-root-user', 'FROM node:24')).toEqual(said);
      expect(findings('no-root-user', 'FROM node:24', 'USER root')).toEqual(said);
      expect(findings('no-root-user', 'FROM node:24', 'USER node', 'USER 0:0')).toEqual(said);
      expect(findings('no-root-user', 'FROM node:24 AS build', 'USER node', 'FROM nginx:1.25')).toEqual(said);
    });

    it('accepts a final stage that sets, or inherits, a user other than root', () => {
      expect(findings('no-root-user', 'FROM node:24', 'USER node')).toEqual([]);
      expect(findings('no-root-user', 'FROM node:24 AS base', 'USER 1000', 'FROM base')).toEqual([]);
    });
  });

  describe('apt-lists-cleaned', () => {
    it('reports each apt-get install whose RUN does not remove the lists, by line', () => {
      expect(
        findings(
          'apt-lists-cleaned',
          'FROM debian:12',
          'RUN apt-get update && apt-get install -y curl',
          'RUN rm -rf /var/lib/apt/lists/*',
          'RUN apt-get install -y git',
        ),
      ).toEqual([
        'line 2: apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN',
        'line 4: apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN',
      ]);
    });

    it('accepts the lists removed in the same RUN, over continued lines too', () => {
      expect(
        findings(
          'apt-lists-cleaned',
          'FROM debian:12',
          'RUN apt-get update \\',
          ' && apt-get install -y --no-install-recommends curl \\',
          ' && rm -rf /var/lib/apt/lists/*',
          'RUN apt-get update',
        ),
      ).toEqual([]);
    });
  });

  describe('copy-not-add', () => {
    it('reports ADD of local files', () => {
      expect(
        findings('copy-not-add', 'FROM debian:12', 'ADD app.sh /app.sh', 'ADD --chmod=755 run.sh /run.sh'),
      ).toEqual(['line 2: use COPY to copy local files, not ADD', 'line 3: use COPY to copy local files, not ADD']);
    });

    it('accepts COPY, and ADD of a URL', () => {
      expect(
        findings(
          'copy-not-add',
          'FROM debian:12',
          'COPY app.sh /app.sh',
          'ADD https://example.com/tool.tar.gz /tmp/',
          'ADD http://example.com/x /x',
        ),
      ).toEqual([]);
    });
  });

  describe('exec-form-cmd', () => {
    it('reports CMD and ENTRYPOINT in shell form', () => {
      expect(findings('exec-form-cmd', 'FROM node:24', 'ENTRYPOINT /entry.sh', 'CMD node server.js')).toEqual([
        'line 2: ENTRYPOINT in shell form; use the exec form, like ENTRYPOINT ["node", "server.js"]',
        'line 3: CMD in shell form; use the exec form, like CMD ["node", "server.js"]',
      ]);
    });

    it('accepts the exec form, and a Dockerfile with neither', () => {
      expect(
        findings('exec-form-cmd', 'FROM node:24', 'ENTRYPOINT ["/entry.sh"]', 'CMD ["node", "server.js"]'),
      ).toEqual([]);
      expect(findings('exec-form-cmd', 'FROM node:24', 'RUN echo CMD /bin/sh')).toEqual([]);
    });
  });

  it('finds nothing in the fixed Dockerfile of the fix-dockerfile exercise, and every rule in its starter', () => {
    const rules: DockerfileRule[] = [
      'no-latest-base',
      'no-root-user',
      'apt-lists-cleaned',
      'copy-not-add',
      'exec-form-cmd',
    ];
    const starter = df(
      'FROM debian',
      'RUN apt-get update && apt-get install -y curl',
      'ADD app.sh /app.sh',
      'CMD /app.sh',
    );
    const fixed = df(
      'FROM debian:12',
      'RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*',
      'COPY app.sh /app.sh',
      'RUN useradd --create-home app',
      'USER app',
      'CMD ["/bin/sh", "/app.sh"]',
    );
    for (const rule of rules) {
      expect(lint(starter, rule), rule).toHaveLength(1);
      expect(lint(fixed, rule), rule).toEqual([]);
    }
  });
});

describe('instruction flags', () => {
  it('keeps flags apart from the arguments, as written', () => {
    const d = parseDockerfile('FROM golang:1.23 AS build\nFROM scratch\nCOPY --from=build /hello /hello\n');
    expect(d.instructions.at(-1)).toMatchObject({ keyword: 'COPY', flags: '--from=build', args: '/hello /hello' });
    expect(d.stages[1]!.baseImage).toBe('scratch');
  });
});
