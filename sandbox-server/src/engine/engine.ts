// The seam to the Docker Engine that the HTTP layer needs; the docker driver builds on the same client.
import Docker from 'dockerode';

export interface EngineInfo {
  version: string;
  apiVersion: string;
}

export interface Engine {
  /** The engine's version; rejects when it does not answer. */
  info(): Promise<EngineInfo>;
}

/** A dockerode client on the engine's unix socket. */
export const dockerClient = (socketPath: string): Docker => new Docker({ socketPath });

export function dockerEngine(docker: Docker): Engine {
  return {
    async info() {
      const v = await docker.version();
      return { version: v.Version, apiVersion: v.ApiVersion };
    },
  };
}
