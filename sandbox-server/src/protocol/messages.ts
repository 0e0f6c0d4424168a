// The session WebSocket protocol, shared by the server and the site: every message is a zod schema.
import { z } from 'zod';

/** A node of a session: node1 is its first sandbox, node2... the ones added to it. */
export const nodeName = z
  .string()
  .regex(/^node[1-9]$/)
  .describe('A node of the session: node1, node2...');
const termId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}$/)
  .describe('Terminal id chosen by the client; reusing one after a reload reattaches that terminal');
const exerciseId = z
  .string()
  .regex(/^[a-z0-9-]{1,80}$/)
  .describe('Exercise id, as in content/exercises/<id>.yaml');
const cols = z.number().int().min(2).max(1000).describe('Terminal width in columns');
const rows = z.number().int().min(2).max(500).describe('Terminal height in rows');

/** Messages the browser sends. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('open'), term: termId, cols, rows, node: nodeName.optional() })
    .describe(
      'Open a terminal (a login shell in ~/work) on a node of the session (default node1), or reattach to it if it is still running',
    ),
  z
    .object({
      type: z.literal('input'),
      term: termId,
      data: z
        .string()
        .max(64 * 1024)
        .describe('Keystrokes or pasted text'),
    })
    .describe('Type into a terminal'),
  z.object({ type: z.literal('resize'), term: termId, cols, rows }).describe('The terminal was resized'),
  z.object({ type: z.literal('close'), term: termId }).describe('Close a terminal and end its shell'),
  z
    .object({
      type: z.literal('ack'),
      term: termId,
      bytes: z.number().int().min(0).describe('Output characters the client has rendered since its last ack'),
    })
    .describe('Flow control: output is paused while too much of it is unacknowledged'),
  z
    .object({ type: z.literal('ping'), at: z.number().describe('Client clock, echoed back in pong') })
    .describe('Keep-alive'),
  z
    .object({ type: z.literal('grade'), exercise: exerciseId })
    .describe('Grade an exercise now: a grade message answers'),
  z
    .object({
      type: z.literal('live'),
      exercise: exerciseId.nullable().describe('The exercise to follow, or null to stop'),
    })
    .describe('Live grading: grade now and again whenever the sandbox or a file changes; grade messages follow'),
]);

export const sessionStateSchema = z
  .enum(['creating', 'ready', 'expiring', 'expired'])
  .describe('creating: sandbox starting; ready; expiring: ends soon (see expiresAt); expired: gone');

export const checkResultSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: z
    .enum(['passed', 'failed', 'error'])
    .describe("error: the platform could not evaluate it (not the learner's fault); try again"),
  message: z.string().describe('What was found, against what was expected'),
  hint: z.string().optional().describe("The author's hint, on failure"),
  points: z.number().int(),
  earned: z.number().int(),
  ms: z.number().int(),
});

export const gradeReportSchema = z.object({
  exercise: z.string(),
  score: z.number().int(),
  maxScore: z.number().int(),
  passed: z.boolean().describe('Every check passed'),
  incomplete: z.boolean().describe('Some check could not be evaluated'),
  checks: z.array(checkResultSchema),
  ms: z.number().int().describe('How long grading took'),
  gradedAt: z.number().describe('ms since the epoch'),
});

const mapPort = z.object({
  port: z.number().int().describe('Published on the sandbox (8080 in -p 8080:80)'),
  target: z.number().int().describe("The container's own port (80 in -p 8080:80)"),
});

/** What is in the learner's engine: their containers, networks and volumes, each sorted by name. */
export const sandboxMapSchema = z.object({
  containers: z
    .array(
      z.object({
        name: z.string().describe('Container name, without the leading slash'),
        image: z.string().describe('The image it runs, as the learner named it (nginx, redis:7)'),
        state: z
          .string()
          .describe("The engine's state: created, running, paused, restarting, removing, exited or dead"),
        networks: z.array(z.string()).describe('Names of the networks it is attached to, sorted'),
        ports: z.array(mapPort).describe('Ports it publishes, once each, sorted'),
        volumes: z.array(z.string()).describe('Names of the volumes mounted in it (not bind mounts), sorted'),
      }),
    )
    .describe("The learner's containers, running or not; the grader's helper containers are left out"),
  networks: z
    .array(
      z.object({
        name: z.string().describe('Network name (app-net, bridge)'),
        driver: z.string().describe('bridge, host, null, overlay, macvlan...'),
        builtin: z.boolean().describe("One of the engine's own networks: bridge, host or none"),
      }),
    )
    .describe('Every network of the engine, its own included'),
  volumes: z
    .array(z.object({ name: z.string().describe('Volume name; an anonymous volume has 64 hex digits') }))
    .describe('Every volume, named or anonymous'),
});

/** Messages the server sends. */
export const serverMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('session'),
      state: sessionStateSchema,
      expiresAt: z.number().describe('When the session ends, ms since the epoch'),
      reason: z
        .enum(['ttl', 'idle', 'ended', 'reset', 'lost'])
        .optional()
        .describe('Why it expired or restarted (lost: the host running its sandbox stopped answering)'),
      nodes: z.array(nodeName).optional().describe("The session's nodes, when they changed"),
      progress: z
        .object({ title: z.string(), step: z.number().int(), of: z.number().int() })
        .optional()
        .describe('Long work under way on the session (a template forming a Swarm): what, and how far'),
    })
    .describe('The session changed state'),
  z
    .object({
      type: z.literal('opened'),
      term: termId,
      reattached: z.boolean().describe('An existing shell was resumed'),
    })
    .describe('A terminal is ready for input'),
  z
    .object({
      type: z.literal('output'),
      term: termId,
      data: z.string(),
      replay: z
        .literal(true)
        .optional()
        .describe(
          "Recent output replayed on (re)attach: it may hold a program's old queries (cursor position and the like), which a client must not answer",
        ),
    })
    .describe('Terminal output (UTF-8 text)'),
  z
    .object({ type: z.literal('exit'), term: termId, code: z.number().int().describe('Exit code of the shell') })
    .describe('A terminal ended'),
  z
    .object({
      type: z.literal('error'),
      code: z.string().describe('Stable code from the error catalogue (docs/errors.md)'),
      title: z.string(),
      hint: z.string(),
      term: termId.optional(),
    })
    .describe('Something failed; the connection stays open unless the session is gone'),
  z.object({ type: z.literal('pong'), at: z.number() }).describe('Answer to ping'),
  z
    .object({
      type: z.literal('grade'),
      live: z.boolean().describe('Pushed by live grading (true) or answering a grade message (false)'),
      report: gradeReportSchema,
    })
    .describe("An exercise's grade report"),
  z
    .object({
      type: z.literal('ports'),
      ports: z.array(
        z.object({
          port: z.number().int().describe('Published on the sandbox (8080 in -p 8080:80)'),
          target: z.number().int().describe("The container's own port (80 in -p 8080:80)"),
          container: z.string().describe('Name of the container that publishes it'),
          image: z.string(),
        }),
      ),
    })
    .describe(
      'The TCP ports published in the sandbox: sent on connect and whenever they change. Open one with POST /api/sessions/:id/previews',
    ),
  z
    .object({
      type: z.literal('map'),
      map: sandboxMapSchema,
      node: nodeName.optional().describe('Whose map (node1 when absent)'),
    })
    .describe("The sandbox map: sent on connect and whenever the learner's containers, networks or volumes change"),
  z
    .object({
      type: z.literal('watched'),
      watching: z.boolean().describe('An instructor is watching (true) or stopped watching (false)'),
      by: z.string().describe("The instructor's display name"),
    })
    .describe("A workshop's instructor started or stopped watching this learner's terminal (read-only)"),
  z
    .object({
      type: z.literal('broadcast'),
      text: z.string().describe('The message, plain text'),
      from: z.string().describe("The instructor's display name"),
      at: z.number().describe('When it was sent, ms since the epoch'),
    })
    .describe('A message from the instructor to the whole workshop (sent again on connect for 15 min)'),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type SessionState = z.infer<typeof sessionStateSchema>;
export type SandboxMap = z.infer<typeof sandboxMapSchema>;

/** Flow control: the server stops reading a terminal's output past this many unacknowledged characters. */
export const FLOW_HIGH_WATER = 128 * 1024;
/** ...and resumes once acknowledgements bring it below this. */
export const FLOW_LOW_WATER = 32 * 1024;

/** Close codes of the session WebSocket. */
export const CLOSE_CODES = {
  sessionGone: 4404,
  replaced: 4409,
  serverShutdown: 1001,
} as const;
