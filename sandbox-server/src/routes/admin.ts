// The admin's view: capacity, every live session with its owner, users and their roles.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { accountView, type Accounts } from '../identity/accounts.ts';
import type { AdminOverview } from '../protocol/api.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Store } from '../store/store.ts';
import { parse } from './sessions.ts';

const roleBody = z.object({ role: z.enum(['learner', 'instructor', 'admin']) });
type WithId = { Params: { id: string } };

export function adminRoutes(app: FastifyInstance, accounts: Accounts, store: Store, sessions: SessionManager): void {
  app.get('/api/admin/overview', async (req, reply) => {
    await accounts.require(req, reply, 'admin');
    const live = sessions.list();
    const owners = new Map(
      await Promise.all(live.map(async (s) => [s.ownerId, await store.getUser(s.ownerId)] as const)),
    );
    return {
      capacity: sessions.stats(),
      sessions: live.map((s) => {
        const owner = owners.get(s.ownerId);
        return {
          id: s.id,
          owner: {
            id: s.ownerId,
            displayName: owner?.displayName ?? 'Guest',
            username: owner?.authId ? owner.username : null,
          },
          sandboxId: s.sandboxId,
          state: s.state,
          createdAt: s.createdAt,
          endsAt: s.endsAt,
          lesson: s.lesson,
          // A playground's session may have several sandboxes: node1, node2...
          nodes: s.nodes,
        };
      }),
      users: (await store.listAccounts()).map((u) => ({ ...accountView(u), createdAt: u.createdAt })),
      guests: await store.countGuests(),
    } satisfies AdminOverview;
  });

  app.delete<WithId>('/api/admin/sessions/:id', async (req, reply) => {
    await accounts.require(req, reply, 'admin');
    if (!sessions.viewOf(req.params.id)) throw new ApiError('SESSION_NOT_FOUND');
    await sessions.destroy(req.params.id, 'ended');
    return { ended: true };
  });

  app.post<WithId>('/api/admin/users/:id/password', async (req, reply) => {
    await accounts.require(req, reply, 'admin');
    const user = await store.getUser(req.params.id);
    if (!user) throw new ApiError('NOT_FOUND', 'There is no such user');
    return { password: await accounts.resetPassword(user) };
  });

  app.post<WithId>('/api/admin/users/:id/role', async (req, reply) => {
    await accounts.require(req, reply, 'admin');
    const { role } = parse(roleBody, req.body);
    const user = await store.setRole(req.params.id, role);
    if (!user) throw new ApiError('NOT_FOUND', 'There is no such user');
    return { user: accountView(user) };
  });
}
