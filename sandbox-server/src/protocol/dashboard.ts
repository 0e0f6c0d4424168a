// The instructor's dashboard WebSocket (/api/workshops/:id/live): the class's live grid, and a
// read-only view of one learner's terminal. Shared by the server and the site, like messages.ts.
import { z } from 'zod';

const learnerId = z.string().min(1).max(64).describe("A learner's user id, as in the dashboard's learners");

export const dashboardClientMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('watch'),
      learner: learnerId.nullable().describe('Whose terminal to show, or null to stop'),
    })
    .describe("Watch a learner's terminal, read-only; they are told"),
  z.object({ type: z.literal('ping'), at: z.number() }).describe('Keep-alive'),
]);

export const cellSchema = z.object({
  status: z.enum(['passed', 'attempted', 'none']).describe('passed: every check; attempted: graded, not all pass'),
  score: z.number().int().describe('Best score so far'),
  maxScore: z.number().int(),
  attempts: z.number().int().describe('Gradings the learner asked for'),
});

export const dashboardSchema = z.object({
  type: z.literal('dashboard'),
  at: z.number().describe('When this was computed, ms since the epoch'),
  workshop: z.object({
    id: z.string(),
    code: z.string().describe('The join code'),
    title: z.string(),
    startsAt: z.number(),
    endsAt: z.number(),
    seatLimit: z.number().int(),
    joinUrl: z.string().describe('Absolute address of the join page with the code filled in'),
  }),
  exercises: z
    .array(z.object({ id: z.string(), title: z.string(), lesson: z.string() }))
    .describe("The grid's columns: the exercises of the workshop's lessons, in lesson order"),
  learners: z
    .array(
      z.object({
        id: learnerId,
        displayName: z.string(),
        joinedAt: z.number(),
        online: z.boolean().describe('Has a live sandbox'),
        nodes: z
          .number()
          .int()
          .describe('Nodes of their live session: 1 for a lone sandbox, more in the playground, 0 offline'),
        stuck: z.boolean().describe('Not finished, and no progress for stuckMinutes'),
        lastActivityAt: z.number().describe('Last progress (or joining), ms since the epoch'),
        watched: z.boolean().describe('Some instructor is watching their terminal'),
        cells: z.record(z.string(), cellSchema).describe('By exercise id; absent means none'),
      }),
    )
    .describe('In the order they joined'),
  stuckMinutes: z.number().int(),
});

export const dashboardServerMessageSchema = z.discriminatedUnion('type', [
  dashboardSchema.describe('The whole grid: on connect and whenever it changes'),
  z
    .object({
      type: z.literal('watch'),
      learner: learnerId,
      state: z.enum(['started', 'no-sandbox', 'stopped']).describe('no-sandbox: the learner has no sandbox running'),
    })
    .describe('What became of a watch request'),
  z
    .object({ type: z.literal('watch-output'), learner: learnerId, term: z.string(), data: z.string() })
    .describe("The watched learner's terminal output; the first of each terminal replays its recent output"),
  z
    .object({
      type: z.literal('watch-size'),
      learner: learnerId,
      term: z.string(),
      cols: z.number().int().describe("The learner's terminal width, in columns"),
      rows: z.number().int(),
    })
    .describe(
      "The watched terminal's size: before its first output and after every resize, so it renders as the learner sees it",
    ),
  z.object({ type: z.literal('error'), code: z.string(), title: z.string(), hint: z.string() }),
  z.object({ type: z.literal('pong'), at: z.number() }),
]);

export type DashboardClientMessage = z.infer<typeof dashboardClientMessageSchema>;
export type DashboardServerMessage = z.infer<typeof dashboardServerMessageSchema>;
export type Dashboard = z.infer<typeof dashboardSchema>;
export type Cell = z.infer<typeof cellSchema>;
