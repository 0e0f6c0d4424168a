// Prints what the setup is doing and how long each step took.
const tty = process.stdout.isTTY === true;
const paint = (code: string, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = (s: string) => paint('1', s);
export const dim = (s: string) => paint('2', s);
export const green = (s: string) => paint('32', s);
export const red = (s: string) => paint('31', s);

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Runs one named step: prints its start, then its outcome and duration. */
export async function step<T>(title: string, fn: () => Promise<{ value: T; note: string }>): Promise<T> {
  console.log(bold(`▸ ${title}`));
  const started = performance.now();
  try {
    const { value, note } = await fn();
    console.log(`  ${green('✓')} ${note} ${dim(`(${seconds(performance.now() - started)})`)}`);
    return value;
  } catch (err) {
    console.log(`  ${red('✗')} ${title} failed ${dim(`(${seconds(performance.now() - started)})`)}`);
    throw err;
  }
}

/** A line of detail under the current step. */
export const detail = (line: string) => console.log(`    ${dim(line)}`);
