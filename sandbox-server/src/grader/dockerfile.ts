// A Dockerfile as the grader sees it: stages, their bases, instructions in order, and lint findings.
import { DOCKERFILE_RULES } from '@dockyard/content';
import { DockerfileParser } from 'dockerfile-ast';

export type DockerfileRule = (typeof DOCKERFILE_RULES)[number];

export interface Instruction {
  keyword: string;
  /** The arguments, without flags. */
  args: string;
  /** Its flags as written, e.g. `--from=build` (empty when none). */
  flags: string;
  line: number;
}

interface Flagged {
  getFlags(): Array<{ getName(): string; getValue(): string | null }>;
}

export interface Stage {
  /** The FROM image as written (`golang:1.23`), or a previous stage's name. */
  from: string;
  /** The image name without tag or digest; for a stage built on another stage, that stage's base. */
  baseImage: string;
  tag: string | null;
  alias: string | null;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  stages: Stage[];
  instructions: Instruction[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const df = DockerfileParser.parse(text);
  const stages: Stage[] = [];
  const instructions: Instruction[] = [];
  for (const i of df.getInstructions()) {
    const ins = {
      keyword: i.getKeyword().toUpperCase(),
      args: i.getArgumentsContent() ?? '',
      flags: 'getFlags' in i ? flagText(i as unknown as Flagged) : '',
      line: i.getRange().start.line + 1,
    };
    instructions.push(ins);
    if (ins.keyword === 'FROM') {
      const [image = '', , alias] = ins.args.split(/\s+/);
      const byAlias = stages.find((s) => s.alias && s.alias === image.toLowerCase());
      const nameAndTag = image.split('@')[0]!;
      const colon = nameAndTag.lastIndexOf(':');
      const hasTag = colon > nameAndTag.lastIndexOf('/');
      stages.push({
        from: image,
        baseImage: byAlias ? byAlias.baseImage : hasTag ? nameAndTag.slice(0, colon) : nameAndTag,
        tag: byAlias ? byAlias.tag : hasTag ? nameAndTag.slice(colon + 1) : null,
        alias: alias ? alias.toLowerCase() : null,
        instructions: [],
      });
    } else stages.at(-1)?.instructions.push(ins);
  }
  return { stages, instructions };
}

const flagText = (i: Flagged) =>
  i
    .getFlags()
    .map((f) => `--${f.getName()}${f.getValue() === null ? '' : `=${f.getValue()}`}`)
    .join(' ');

const isRoot = (user: string) => /^(root|0)(:.*)?$/.test(user.trim());

/**
 * The final stage's instructions, after those of the stages it is built on (`FROM build`): a stage
 * inherits its parent stage's USER and HEALTHCHECK like any image's.
 */
export function finalInstructions(df: ParsedDockerfile): Instruction[] {
  const chain: Stage[] = [];
  for (let i = df.stages.length - 1; i >= 0;) {
    const s = df.stages[i]!;
    chain.unshift(s);
    i = df.stages.findLastIndex((o, j) => j < i && o.alias !== null && o.alias === s.from.toLowerCase());
  }
  return chain.flatMap((s) => s.instructions);
}

/** The final stage's effective USER ("" when none is set). */
export function finalUser(df: ParsedDockerfile): string {
  const users = finalInstructions(df).filter((i) => i.keyword === 'USER');
  return users.at(-1)?.args.trim() ?? '';
}

export const isNonRoot = (user: string) => user !== '' && !isRoot(user);

/** Findings of one rule, each with the line it is about and what to do. */
export function lint(df: ParsedDockerfile, rule: DockerfileRule): string[] {
  const out: string[] = [];
  switch (rule) {
    case 'no-latest-base':
      for (const s of df.stages) {
        const stageRef = df.stages.some((o) => o.alias && o.alias === s.from.toLowerCase());
        if (stageRef || s.baseImage === 'scratch' || s.from.includes('@')) continue;
        if (s.tag === null || s.tag === 'latest')
          out.push(`FROM ${s.from} has no pinned tag: name a version, like ${s.baseImage}:1.2`);
      }
      break;
    case 'no-root-user':
      if (!isNonRoot(finalUser(df))) out.push('the final stage runs as root: add a USER with a non-root user');
      break;
    case 'apt-lists-cleaned':
      for (const i of df.instructions) {
        if (
          i.keyword === 'RUN' &&
          /apt-get\s+install/.test(i.args) &&
          !/rm\s+-rf\s+\/var\/lib\/apt\/lists/.test(i.args)
        ) {
          out.push(`line ${i.line}: apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN`);
        }
      }
      break;
    case 'copy-not-add':
      for (const i of df.instructions) {
        if (i.keyword === 'ADD' && !/https?:\/\//.test(i.args))
          out.push(`line ${i.line}: use COPY to copy local files, not ADD`);
      }
      break;
    case 'exec-form-cmd':
      for (const i of df.instructions) {
        if ((i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT') && !i.args.trim().startsWith('[')) {
          out.push(
            `line ${i.line}: ${i.keyword} in shell form; use the exec form, like ${i.keyword} ["node", "server.js"]`,
          );
        }
      }
      break;
  }
  return out;
}
