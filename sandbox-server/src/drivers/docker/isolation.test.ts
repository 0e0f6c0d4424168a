// The start-up isolation check: an engine without user namespaces is refused unless the operator opts in.
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../errors.ts';
import { DockerDriver } from './docker-driver.ts';

const engine = (securityOptions: string[]) =>
  ({ info: async () => ({ SecurityOptions: securityOptions }) }) as unknown as Docker;

describe('DockerDriver.checkIsolation', () => {
  it('refuses an engine without user namespaces, with ENGINE_WITHOUT_USERNS', async () => {
    const err = await new DockerDriver(engine(['name=seccomp,profile=builtin', 'name=cgroupns']))
      .checkIsolation(false)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('ENGINE_WITHOUT_USERNS');
  });

  it('accepts it when the operator opted in', async () => {
    await expect(new DockerDriver(engine(['name=seccomp,profile=builtin'])).checkIsolation(true)).resolves.toBe(
      undefined,
    );
  });
});
