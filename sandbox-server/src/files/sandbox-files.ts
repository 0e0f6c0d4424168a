// The editor's view of the learner's working directory in a sandbox: list, read and write files there.
import { posix } from 'node:path';
import type { ExecOptions, ExecResult } from '../drivers/driver.ts';
import { ApiError } from '../errors.ts';

export type Exec = (cmd: string[], opts?: ExecOptions) => Promise<ExecResult>;

export interface FileEntry {
  name: string;
  /** Relative to the root, as list(), read() and write() take it. */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
}

export interface FileContent {
  path: string;
  encoding: 'utf8' | 'base64';
  content: string;
  size: number;
}

export interface SandboxFilesOptions {
  /** The learner's working directory in the sandbox, e.g. /root/work. */
  root: string;
  /** Largest file, in bytes, the editor reads or writes. */
  maxBytes: number;
}

const TIMEOUT_MS = 10_000;

/** Normalises a learner's path (relative, or absolute under root) to an absolute path under root. */
export function resolveInRoot(root: string, path: string): string {
  if (!posix.isAbsolute(root)) throw new Error(`The files root must be absolute, not ${root}`);
  if (path.includes('\0')) throw new ApiError('FILE_PATH_INVALID', 'The path contains a NUL byte');
  const base = posix.resolve(root);
  const abs = posix.resolve(base, path);
  const prefix = base === '/' ? '/' : `${base}/`;
  if (abs !== base && !abs.startsWith(prefix)) throw new ApiError('FILE_PATH_INVALID', `'${path}' is outside ${root}`);
  return abs;
}

// The scripts get the root as $1 and the path as $2, never inside the script text, so no name can inject
// shell. The pure check cannot see symlinks, so each script resolves both in the sandbox and refuses a path
// that lands outside the root. `realpath -z` and `read -d ''` keep names ending in a newline intact.
const PRELUDE = [
  'set -uo pipefail',
  `resolve() { IFS= read -r -d '' "$1" < <(realpath -mz -- "$2"); }`,
  'resolve root "$1" || exit 1',
  'resolve p "$2" || exit 66',
  'case "$p" in "$root" | "$root"/*) ;; *) exit 65 ;; esac',
];
const script = (...lines: string[]) => [...PRELUDE, ...lines].join('\n');

// NUL-separated records, base64'd so that names with newlines or bytes that are not UTF-8 cross exec intact.
const LIST = script(
  '[ -e "$p" ] || exit 66',
  '[ -d "$p" ] || exit 68',
  `find "$p" -mindepth 1 -maxdepth 1 -printf '%y %s %f\\0' | base64 -w0`,
);

// $3 is maxBytes. The size check comes first so a large file is never sent; head bounds a file that grows after.
const READ = script(
  '[ -e "$p" ] || exit 66',
  '[ -f "$p" ] || exit 67',
  'size=$(stat -c %s -- "$p") || exit 1',
  '[ "$size" -le "$3" ] || { echo "$size"; exit 69; }',
  'head -c "$(($3 + 1))" -- "$p" | base64 -w0',
);

// The content arrives base64'd on stdin. Writing in place, not by rename, keeps the file's mode (an executable
// entrypoint.sh stays executable).
const WRITE = script('[ -e "$p" ] && [ ! -f "$p" ] && exit 67', 'mkdir -p -- "${p%/*}" || exit 70', 'base64 -d > "$p"');

/** What a script's own exit codes mean for the learner's `path`. */
const MISTAKES: Record<number, (path: string, stdout: string) => ApiError> = {
  65: (p) => new ApiError('FILE_PATH_INVALID', `'${p}' leads outside the working directory`),
  66: (p) => new ApiError('FILE_NOT_FOUND', `There is no '${p}'`),
  67: (p) => new ApiError('FILE_NOT_A_FILE', `'${p}' is a folder or a special file`),
  68: (p) => new ApiError('FILE_NOT_FOUND', `'${p}' is a file, not a folder`),
  69: (p, out) => new ApiError('FILE_TOO_LARGE', `'${p}' is ${out.trim()} bytes`),
  70: (p) => new ApiError('FILE_PATH_INVALID', `A file is in the way of the folders '${p}' needs`),
};

const KINDS: Record<string, FileEntry['kind']> = { f: 'file', d: 'dir', l: 'symlink' };

/** Parses find's `%y %s %f\0` records; the name is everything after the second space. */
function parseListing(records: Buffer, dir: string): FileEntry[] {
  const entries: FileEntry[] = [];
  let start = 0;
  for (let end = records.indexOf(0); end !== -1; start = end + 1, end = records.indexOf(0, start)) {
    const record = records.subarray(start, end).toString('utf8');
    const gap = record.indexOf(' ', 2);
    const name = record.slice(gap + 1);
    const kind = KINDS[record[0]!] ?? 'other';
    entries.push({ name, path: dir ? `${dir}/${name}` : name, kind, size: Number(record.slice(2, gap)) });
  }
  return entries;
}

const collator = new Intl.Collator('en', { numeric: true });
const byDirsThenName = (a: FileEntry, b: FileEntry) =>
  Number(b.kind === 'dir') - Number(a.kind === 'dir') || collator.compare(a.name, b.name);

// A NUL byte is valid UTF-8 but means binary, as git judges it. The BOM is kept so a save writes it back.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class SandboxFiles {
  readonly #exec: Exec;
  readonly #root: string;
  readonly #maxBytes: number;

  constructor(exec: Exec, opts: SandboxFilesOptions) {
    this.#exec = exec;
    this.#root = resolveInRoot(opts.root, '');
    this.#maxBytes = opts.maxBytes;
  }

  /** The entries of a folder (default: the root), folders first, then by name. */
  async list(path = ''): Promise<FileEntry[]> {
    const abs = resolveInRoot(this.#root, path);
    const out = await this.#run(LIST, abs, path);
    return parseListing(Buffer.from(out, 'base64'), this.#relative(abs)).sort(byDirsThenName);
  }

  /** A file's content: as text when it is UTF-8, else base64. */
  async read(path: string): Promise<FileContent> {
    const abs = this.#fileIn(path);
    const bytes = Buffer.from(await this.#run(READ, abs, path, [String(this.#maxBytes)]), 'base64');
    if (bytes.length > this.#maxBytes)
      throw new ApiError('FILE_TOO_LARGE', `'${path}' is over ${this.#maxBytes} bytes`);
    const text = asText(bytes);
    const rel = this.#relative(abs);
    return text === undefined
      ? { path: rel, encoding: 'base64', content: bytes.toString('base64'), size: bytes.length }
      : { path: rel, encoding: 'utf8', content: text, size: bytes.length };
  }

  /** Writes a file, creating the folders it needs. */
  async write(
    path: string,
    content: string,
    encoding: 'utf8' | 'base64' = 'utf8',
  ): Promise<{ path: string; size: number }> {
    const abs = this.#fileIn(path);
    if (encoding === 'base64' && !BASE64.test(content))
      throw new ApiError('BAD_REQUEST', 'content is not valid base64');
    const bytes = Buffer.from(content, encoding);
    if (bytes.length > this.#maxBytes)
      throw new ApiError('FILE_TOO_LARGE', `${bytes.length} bytes is over the limit of ${this.#maxBytes}`);
    await this.#run(WRITE, abs, path, [], bytes.toString('base64'));
    return { path: this.#relative(abs), size: bytes.length };
  }

  /** The absolute path of a file under the root; the root itself is a folder, never a file. */
  #fileIn(path: string): string {
    const abs = resolveInRoot(this.#root, path);
    if (abs === this.#root) throw new ApiError('FILE_PATH_INVALID', 'Name a file inside the working directory');
    return abs;
  }

  #relative(abs: string): string {
    return posix.relative(this.#root, abs);
  }

  async #run(body: string, abs: string, path: string, extra: string[] = [], input?: string): Promise<string> {
    const cmd = ['bash', '-c', body, 'bash', this.#root, abs, ...extra];
    const r = await this.#exec(cmd, { timeoutMs: TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
    if (r.exitCode === 0) return r.stdout;
    const mistake = MISTAKES[r.exitCode];
    if (mistake) throw mistake(path, r.stdout);
    throw new Error(`Sandbox file operation on ${abs} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  }
}
