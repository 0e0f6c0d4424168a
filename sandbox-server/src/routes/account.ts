// Who am I, and the account's life: sign up, sign in, sign out, change password, GitHub.
import { fromNodeHeaders } from 'better-auth/node';
import type { FastifyInstance } from 'fastify';
import { accountView, passwordBody, signInBody, signUpBody, type Accounts } from '../identity/accounts.ts';
import type { Me } from '../protocol/api.ts';
import type { Store } from '../store/store.ts';
import { parse } from './sessions.ts';

export function accountRoutes(app: FastifyInstance, accounts: Accounts, store: Store): void {
  app.get('/api/me', async (req, reply) => {
    const user = await accounts.identify(req, reply);
    const workshops = await store.workshopsJoinedBy(user.id);
    return {
      user: accountView(user),
      github: accounts.githubEnabled,
      workshops: workshops.map((w) => ({ code: w.code, title: w.title, lessons: w.lessons })),
    } satisfies Me;
  });

  app.post('/api/account/sign-up', async (req, reply) => ({
    user: accountView(await accounts.signUp(req, reply, parse(signUpBody, req.body))),
  }));

  app.post('/api/account/sign-in', async (req, reply) => ({
    user: accountView(await accounts.signIn(req, reply, parse(signInBody, req.body))),
  }));

  app.post('/api/account/sign-out', async (req, reply) => ({
    user: accountView(await accounts.signOut(req, reply)),
  }));

  app.post('/api/account/password', async (req, reply) => {
    await accounts.changePassword(req, reply, parse(passwordBody, req.body));
    return { ok: true };
  });

  app.get('/api/account/github', async (req, reply) => reply.redirect(await accounts.githubUrl(req, reply)));

  // GitHub comes back here; better-auth checks the state, makes the account and signs the browser
  // in, then redirects to /account/, whose first /api/me links the account to this browser's guest.
  app.get('/api/auth/callback/:provider', async (req, reply) => {
    const res = await accounts.auth.handler(
      new Request(new URL(req.url, accounts.auth.options.baseURL as string), {
        method: 'GET',
        headers: fromNodeHeaders(req.headers),
      }),
    );
    reply.status(res.status);
    res.headers.forEach((value, key) => {
      if (key !== 'set-cookie') reply.header(key, value);
    });
    for (const c of res.headers.getSetCookie()) reply.header('set-cookie', c);
    return reply.send(await res.text());
  });
}
