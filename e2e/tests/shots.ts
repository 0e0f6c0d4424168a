// Where the tests save their screenshots (e2e/screenshots/, kept out of git), whatever the cwd.
import { fileURLToPath } from 'node:url';

export const shot = (name: string) => fileURLToPath(new URL(`../screenshots/${name}.png`, import.meta.url));
