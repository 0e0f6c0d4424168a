// What the workspace reads in terminal text: a terminal's answers to a program's queries (never to
// be replayed into a shell), and whose prompt the cursor sits at (the sandbox's or a container's).

/**
 * Answers xterm.js gives to a program's queries: cursor position (CSI row;col R), device
 * attributes (CSI ? … c, CSI > … c), status (CSI 0 n), modes (CSI … $ y), settings and colours
 * (DCS … ST, OSC … BEL/ST). A person's keys never produce these.
 */
const REPORT =
  // eslint-disable-next-line no-control-regex -- escape sequences are made of control characters
  /^(?:\x1b\[\??\d+;\d+R|\x1b\[[?>=][\d;]*c|\x1b\[\d+n|\x1b\[\??[\d;]+\$y|\x1bP[\s\S]*\x1b\\|\x1b\][\s\S]*(?:\x07|\x1b\\))+$/;

export const isTerminalReport = (data: string) => REPORT.test(data);

/** The sandbox's own bash prompt (images/sandbox/bashrc): `sandbox:~/work# `. */
const SANDBOX_PROMPT = /^(sandbox|node\d+):\S*[#$] ?$/;
/** Another shell's prompt with nothing typed after it: BusyBox `/ # `, Debian `root@3f2a:/# `, `/app $ `. */
const SHELL_PROMPT = /^\S{1,60} ?[#$]$/;

/**
 * The prompt the cursor sits at when it is some other shell's than the sandbox's (a shell
 * inside a container, where `docker` does not exist), else undefined. `line` is the cursor's
 * line up to the cursor.
 */
export function innerShellPrompt(line: string): string | undefined {
  const text = line.trim();
  return SHELL_PROMPT.test(text) && !SANDBOX_PROMPT.test(text) ? text : undefined;
}

/** Whether the cursor sits at the sandbox's prompt, waiting for a command. */
export const atSandboxPrompt = (line: string) => SANDBOX_PROMPT.test(line.trimStart());
