import { describe, expect, it } from 'vitest';
import { atSandboxPrompt, innerShellPrompt, isTerminalReport } from './terminal-text.ts';

describe('isTerminalReport', () => {
  it("knows xterm's answers to queries, alone or several at once", () => {
    for (const r of ['\x1b[12;5R', '\x1b[1;5R\x1b[1;5R', '\x1b[?1;2c', '\x1b[>0;276;0c', '\x1b[0n', '\x1b[?2004;1$y']) {
      expect(isTerminalReport(r), JSON.stringify(r)).toBe(true);
    }
    expect(isTerminalReport('\x1b]11;rgb:0d0d/1111/1717\x1b\\')).toBe(true);
    expect(isTerminalReport('\x1bP1$r0m\x1b\\')).toBe(true);
  });

  it('leaves what a person types alone', () => {
    for (const k of ['a', 'echo hi\r', '\x1b[A', '\x1b[1;5C', '\x03', '\x1b', '\t', 'R']) {
      expect(isTerminalReport(k), JSON.stringify(k)).toBe(false);
    }
  });
});

describe('innerShellPrompt', () => {
  it("finds a container's shell prompt", () => {
    expect(innerShellPrompt('/ # ')).toBe('/ #');
    expect(innerShellPrompt('root@3f2a9c1d:/# ')).toBe('root@3f2a9c1d:/#');
    expect(innerShellPrompt('/app $ ')).toBe('/app $');
  });

  it("is quiet at the sandbox's prompt, mid-output or on an empty line", () => {
    expect(innerShellPrompt('sandbox:~/work# ')).toBeUndefined();
    expect(innerShellPrompt('sandbox:/tmp# ')).toBeUndefined();
    expect(innerShellPrompt('')).toBeUndefined();
    expect(innerShellPrompt('Step 3/5 : RUN npm ci')).toBeUndefined();
    expect(innerShellPrompt('100% done')).toBeUndefined();
  });

  it('knows the sandbox prompt', () => {
    expect(atSandboxPrompt('sandbox:~/work# ')).toBe(true);
    expect(atSandboxPrompt('/ # ')).toBe(false);
  });
});
