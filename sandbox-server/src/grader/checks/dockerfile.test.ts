// The dockerfile check's instruction order, on a Dockerfile given directly (no sandbox needed).
import { checkSchema, type CheckOf } from '@dockyard/content';
import { describe, expect, it } from 'vitest';
import type { Probe } from '../probe.ts';
import { dockerfile } from './dockerfile.ts';

const probeWith = (text: string): Probe => ({
  sh: async () => ({ exitCode: 0, stdout: text, stderr: '' }),
  api: async () => {
    throw new Error('not used');
  },
});
const check = (order: string[]) =>
  checkSchema.parse({ id: 'o', kind: 'dockerfile', title: 'order', order }) as CheckOf<'dockerfile'>;

const DOCKERFILE = `FROM node:24
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
CMD ["node", "server.js"]
`;

describe('dockerfile order', () => {
  it('matches an instruction by its arguments whether or not the prefix writes its flags', async () => {
    expect((await dockerfile(probeWith(DOCKERFILE), check(['COPY package.json', 'RUN npm ci', 'COPY . .']))).pass).toBe(
      true,
    );
    expect(
      (
        await dockerfile(
          probeWith(DOCKERFILE),
          check(['COPY package.json', 'RUN --mount=type=cache,target=/root/.npm npm ci']),
        )
      ).pass,
    ).toBe(true);
  });

  it('fails when the order is wrong, naming where it looked from', async () => {
    const out = await dockerfile(probeWith(DOCKERFILE), check(['COPY . .', 'RUN npm ci']));
    expect(out.pass).toBe(false);
    expect(out.message).toContain('"RUN npm ci" should come after line 5');
  });
});
