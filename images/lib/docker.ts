// Thin wrappers over the docker CLI for the image builder.
import { mustRun, run } from '../../infra/setup/lib/run.ts';

/** The legacy builder: the engine from Debian (20.10) has no buildx plugin beside it. */
export const dockerEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_BUILDKIT: '0' };

export async function docker(args: string[], onLine?: (line: string) => void): Promise<string> {
  const r = await mustRun(['docker', ...args], { env: dockerEnv, onLine });
  return r.stdout.trim();
}

/** Image id and labels, or undefined when the engine has no such image. */
export async function inspectImage(
  ref: string,
): Promise<{ id: string; labels: Record<string, string>; size: number; tags: string[] } | undefined> {
  const r = await run(['docker', 'image', 'inspect', ref], { env: dockerEnv });
  if (r.code !== 0) return undefined;
  const [img] = JSON.parse(r.stdout) as Array<{
    Id: string;
    Size: number;
    RepoTags: string[] | null;
    Config: { Labels: Record<string, string> | null };
  }>;
  return { id: img!.Id, labels: img!.Config.Labels ?? {}, size: img!.Size, tags: img!.RepoTags ?? [] };
}

/** Runs a throw-away container of `ref` and returns what it printed (stdout and stderr). */
export async function runOnce(ref: string, cmd: string[]): Promise<string> {
  const r = await mustRun(
    ['docker', 'run', '--rm', '--network', 'none', '--entrypoint', cmd[0]!, ref, ...cmd.slice(1)],
    {
      env: dockerEnv,
    },
  );
  return `${r.stdout}${r.stderr}`;
}
