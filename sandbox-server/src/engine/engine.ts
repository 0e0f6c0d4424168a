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

/**
 * Each call pings the engine (about 1 ms); the version is asked once. `docker version` is not
 * cheap on engine 20.10: it runs `runc --version` and `docker-init --version` every time.
 */
export function dockerEngine(docker: Docker): Engine {
  let version: EngineInfo | undefined;
  return {
    async info() {
      await docker.ping();
      if (!version) {
        const v = await docker.version();
        version = { version: v.Version, apiVersion: v.ApiVersion };
      }
      return version;
    },
  };
}
