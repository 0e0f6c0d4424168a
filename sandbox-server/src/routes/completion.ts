// Course completion: a learner who passed every exercise makes a page that anyone with its link
// can open. The page is rebuilt from the store on every visit; its link names it by an id only.
import { outline, type Exercise } from '@dockyard/content';
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify';
import { courseStanding } from '../completion/standing.ts';
import { ApiError } from '../errors.ts';
import type { Accounts } from '../identity/accounts.ts';
import type { CompletionPage, MyCompletion } from '../protocol/api.ts';
import type { Completion, Store, User } from '../store/store.ts';

export interface CompletionRouteDeps {
  accounts: Accounts;
  store: Store;
  /** The course's exercises, as the grader knows them. */
  exercises: () => readonly Exercise[];
  publicUrl: string;
}

/** The address of a completion page, as its learner shares it. */
export const completionUrl = (publicUrl: string, id: string) => `${publicUrl}/completion/?id=${id}`;

export function completionRoutes(app: FastifyInstance, deps: CompletionRouteDeps): void {
  const { accounts, store } = deps;
  const standingOf = async (userId: string) =>
    courseStanding(outline, deps.exercises(), await store.progressOf(userId));
  const mine = async (user: User, completion: Completion | undefined): Promise<MyCompletion> => {
    const { exercises, passed } = await standingOf(user.id);
    return {
      exercises,
      passed,
      guest: user.authId === null,
      completion: completion
        ? { id: completion.id, url: completionUrl(deps.publicUrl, completion.id), createdAt: completion.createdAt }
        : null,
    };
  };
  const me = (req: FastifyRequest, reply: FastifyReply) => accounts.identify(req, reply);

  app.get('/api/completion', async (req, reply) => {
    const user = await me(req, reply);
    return mine(user, await store.completions.of(user.id));
  });

  // A guest's progress belongs to their browser (and goes when they sign in to another account),
  // so a page to share needs an account; signing up keeps the guest's progress.
  app.post('/api/completion', async (req, reply) => {
    const user = await me(req, reply);
    const existing = await store.completions.of(user.id);
    if (existing) return mine(user, existing);
    const { exercises, passed, complete } = await standingOf(user.id);
    if (!complete) {
      const left = exercises - passed;
      throw new ApiError('COURSE_NOT_COMPLETE', `${left} exercise${left === 1 ? '' : 's'} of ${exercises} to go.`);
    }
    if (user.authId === null) throw new ApiError('SIGN_IN_REQUIRED', 'A completion page needs an account.');
    const made = await store.completions.issue(user.id);
    return reply.status(201).send(await mine(user, made));
  });

  app.get<{ Params: { id: string } }>('/api/completions/:id', async (req, reply) => {
    const found = await store.completions.find(req.params.id);
    if (!found) throw new ApiError('COMPLETION_NOT_FOUND');
    // Always from the store: a deleted account or new progress shows at once, in no cache.
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
    return {
      learner: { displayName: found.user.displayName },
      createdAt: found.completion.createdAt,
      ...(await standingOf(found.user.id)),
    } satisfies CompletionPage;
  });
}
