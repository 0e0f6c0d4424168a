// Who is asking: an account (better-auth: username or email and password, or GitHub), or else the
// browser's guest identity. Either way the answer is one Dockyard user, whose id owns sandboxes,
// progress and workshop seats. Signing up turns the guest into the account (same id, so nothing
// moves); signing in from a browser that was a guest merges the guest into the account.
import { createHmac, randomBytes } from 'node:crypto';
import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { fromNodeHeaders } from 'better-auth/node';
import { username as usernamePlugin } from 'better-auth/plugins';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { ApiError, type ErrorCode } from '../errors.ts';
import type { Store, User } from '../store/store.ts';
import type { AccountView } from '../protocol/api.ts';
import type { Role } from '../store/schema.ts';
import { RateLimiter } from './rate-limit.ts';
import type { Signer } from './signing.ts';

export const OWNER_COOKIE = 'dockyard_owner';
/** Readable by the site's script, which echoes it in `x-csrf-token`; bound to the owner cookie. */
export const CSRF_COOKIE = 'dockyard_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const AUTH_COOKIE_PREFIX = 'dockyard';
const YEAR_S = 60 * 60 * 24 * 365;

const USERNAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** better-auth's settings; the schema test hands the same ones to better-auth's own schema diff. */
export function authOptions(
  db: Kysely<unknown>,
  dialect: 'sqlite' | 'postgres',
  config: Pick<Config, 'publicUrl' | 'allowedOrigins' | 'github'>,
  key: Buffer,
) {
  return {
    database: { db, type: dialect },
    secret: createHmac('sha256', key).update('better-auth').digest('base64url'),
    baseURL: config.publicUrl,
    basePath: '/api/auth',
    trustedOrigins: [...config.allowedOrigins],
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128 },
    plugins: [
      usernamePlugin({
        minUsernameLength: 3,
        maxUsernameLength: 32,
        usernameValidator: (u: string) => USERNAME_PATTERN.test(u),
      }),
    ],
    ...(config.github
      ? { socialProviders: { github: { clientId: config.github.clientId, clientSecret: config.github.clientSecret } } }
      : {}),
    session: { modelName: 'auth_session', expiresIn: 60 * 60 * 24 * 30 },
    user: { modelName: 'auth_user' },
    account: { modelName: 'auth_account' },
    verification: { modelName: 'auth_verification' },
    // Dockyard's own limiter answers with its error catalogue; see signIn and signUp.
    rateLimit: { enabled: false },
    advanced: { cookiePrefix: AUTH_COOKIE_PREFIX, useSecureCookies: config.publicUrl.startsWith('https:') },
    logger: { disabled: true },
  } satisfies BetterAuthOptions;
}

export const createAuth = (...args: Parameters<typeof authOptions>) => betterAuth(authOptions(...args));
export type Auth = ReturnType<typeof createAuth>;

const username = z
  .string()
  .trim()
  .min(3, 'At least 3 characters.')
  .max(32, 'At most 32 characters.')
  .regex(USERNAME_PATTERN, 'Use only letters, digits, dots, dashes and underscores: no spaces.');
const password = z.string().max(128, 'At most 128 characters.');
export const signUpBody = z.object({
  username: username.describe('Shown to instructors; signs in like the email does'),
  password: password.describe('At least 8 characters'),
  email: z
    .union([z.email('Not an email address: one looks like name@example.org.'), z.literal('')])
    .optional()
    .describe('Optional: sign in with it too'),
  displayName: z.string().trim().max(40).optional().describe('The name others see; the username by default'),
});
export const signInBody = z.object({
  login: z.string().trim().min(1).max(254).describe('Username or email'),
  password,
});
export const passwordBody = z.object({ currentPassword: password, newPassword: password });

/** Accounts without an email get a placeholder (better-auth needs one); it is never shown. */
const PLACEHOLDER_EMAIL_DOMAIN = 'users.dockyard.invalid';
const shownEmail = (email: string) => (email.endsWith(`@${PLACEHOLDER_EMAIL_DOMAIN}`) ? null : email);

/** What better-auth's error codes mean for a learner. */
const AUTH_ERRORS: Record<string, ErrorCode> = {
  USERNAME_IS_ALREADY_TAKEN: 'USERNAME_TAKEN',
  USERNAME_IS_ALREADY_TAKEN_PLEASE_TRY_ANOTHER: 'USERNAME_TAKEN',
  USER_ALREADY_EXISTS: 'EMAIL_TAKEN',
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: 'EMAIL_TAKEN',
  PASSWORD_TOO_SHORT: 'WEAK_PASSWORD',
  PASSWORD_TOO_LONG: 'WEAK_PASSWORD',
  INVALID_USERNAME_OR_PASSWORD: 'SIGN_IN_FAILED',
  INVALID_EMAIL_OR_PASSWORD: 'SIGN_IN_FAILED',
  INVALID_PASSWORD: 'SIGN_IN_FAILED',
  CREDENTIAL_ACCOUNT_NOT_FOUND: 'SIGN_IN_FAILED',
};

function translate(err: unknown, overrides: Record<string, ErrorCode> = {}): ApiError {
  const body = (err as { body?: { code?: string; message?: string } }).body;
  const code = body?.code && (overrides[body.code] ?? AUTH_ERRORS[body.code]);
  if (code) return new ApiError(code);
  if (body?.message) return new ApiError('BAD_REQUEST', body.message);
  return err instanceof ApiError ? err : new ApiError('INTERNAL');
}

export const accountView = (u: User): AccountView => ({
  id: u.id,
  username: u.authId ? u.username : null,
  displayName: u.displayName,
  email: u.email,
  role: u.role,
  guest: u.authId === null,
});

export class Accounts {
  readonly auth: Auth;
  readonly #store: Store;
  readonly #signer: Signer;
  readonly #config: Config;
  readonly #secure: boolean;
  readonly #signIns: RateLimiter;
  readonly #signUps: RateLimiter;
  /** A guest signed in: moves their sandbox session to the account. */
  readonly #onMerged: (guestId: string, userId: string) => Promise<void>;

  constructor(opts: {
    store: Store;
    signer: Signer;
    config: Config;
    auth: Auth;
    onMerged: (guestId: string, userId: string) => Promise<void>;
  }) {
    this.#store = opts.store;
    this.#signer = opts.signer;
    this.#config = opts.config;
    this.auth = opts.auth;
    this.#onMerged = opts.onMerged;
    this.#secure = opts.config.publicUrl.startsWith('https:');
    const events = opts.store.rateEvents;
    this.#signIns = new RateLimiter(opts.config.signInLimitPer15Min, 15 * 60_000, { events, bucket: 'sign-in' });
    this.#signUps = new RateLimiter(opts.config.signUpLimitPerHour, 3_600_000, { events, bucket: 'sign-up' });
  }

  get githubEnabled(): boolean {
    return this.#config.github !== undefined;
  }

  /** The user behind a request: the signed-in account's, or this browser's guest (made on first use). */
  async identify(req: FastifyRequest, reply: FastifyReply): Promise<User> {
    const authUser = await this.#authUser(req, reply);
    if (authUser) {
      const user = (await this.#store.findUserByAuthId(authUser.id)) ?? (await this.#adopt(req, reply, authUser));
      return this.#promote(user);
    }
    return this.#guest(req, reply);
  }

  /** Like identify, but only an account with one of `roles` may pass. */
  async require(req: FastifyRequest, reply: FastifyReply, ...roles: Role[]): Promise<User> {
    const user = await this.identify(req, reply);
    if (user.authId === null) throw new ApiError('SIGN_IN_REQUIRED');
    if (!roles.includes(user.role)) throw new ApiError('FORBIDDEN');
    return user;
  }

  async signUp(req: FastifyRequest, reply: FastifyReply, body: z.infer<typeof signUpBody>): Promise<User> {
    await this.#limit(this.#signUps, req, 'TOO_MANY_SIGN_UPS');
    if (body.password.length < 8) throw new ApiError('WEAK_PASSWORD');
    const name = body.displayName || body.username;
    const email = body.email || `${body.username.toLowerCase()}@${PLACEHOLDER_EMAIL_DOMAIN}`;
    let result: { headers: Headers; response: { user: { id: string } } };
    try {
      result = (await this.auth.api.signUpEmail({
        body: { email, password: body.password, name, username: body.username },
        headers: fromNodeHeaders(req.headers),
        returnHeaders: true,
      })) as typeof result;
    } catch (e) {
      throw translate(e);
    }
    forwardCookies(result.headers, reply);
    return this.#promote(await this.#adopt(req, reply, { id: result.response.user.id }));
  }

  async signIn(req: FastifyRequest, reply: FastifyReply, body: z.infer<typeof signInBody>): Promise<User> {
    await this.#limit(this.#signIns, req, 'TOO_MANY_SIGN_INS');
    const headers = fromNodeHeaders(req.headers);
    let result: { headers: Headers; response: { user: { id: string } } };
    try {
      result = (await (body.login.includes('@')
        ? this.auth.api.signInEmail({
            body: { email: body.login, password: body.password },
            headers,
            returnHeaders: true,
          })
        : this.auth.api.signInUsername({
            body: { username: body.login, password: body.password },
            headers,
            returnHeaders: true,
          }))) as typeof result;
    } catch (e) {
      throw translate(e);
    }
    forwardCookies(result.headers, reply);
    const account = await this.#store.findUserByAuthId(result.response.user.id);
    if (!account) return this.#promote(await this.#adopt(req, reply, result.response.user));
    // The browser's guest (if it did anything) joins the account; the browser gets a fresh guest id
    // for after sign-out.
    const guestId = this.#cookieOwner(req);
    const guest = guestId ? await this.#store.getUser(guestId) : undefined;
    if (guestId && guestId !== account.id && !guest?.authId) {
      if (guest) await this.#store.mergeGuestInto(guest.id, account.id);
      // A guest who only opened a sandbox has no row yet; the sandbox moves all the same.
      await this.#onMerged(guestId, account.id);
    }
    this.#mintOwner(reply);
    return this.#promote(account);
  }

  /** Ends the account's sign-in; the browser goes on as a brand-new guest. */
  async signOut(req: FastifyRequest, reply: FastifyReply): Promise<User> {
    try {
      const r = await this.auth.api.signOut({ headers: fromNodeHeaders(req.headers), returnHeaders: true });
      forwardCookies(r.headers, reply);
    } catch {
      // Not signed in: nothing to end.
    }
    return guestUser(this.#mintOwner(reply));
  }

  async changePassword(req: FastifyRequest, reply: FastifyReply, body: z.infer<typeof passwordBody>): Promise<void> {
    await this.require(req, reply, 'learner', 'instructor', 'admin');
    if (body.newPassword.length < 8) throw new ApiError('WEAK_PASSWORD');
    await this.#limit(this.#signIns, req, 'TOO_MANY_SIGN_INS');
    try {
      const r = await this.auth.api.changePassword({
        body: { currentPassword: body.currentPassword, newPassword: body.newPassword, revokeOtherSessions: true },
        headers: fromNodeHeaders(req.headers),
        returnHeaders: true,
      });
      forwardCookies(r.headers, reply);
    } catch (e) {
      throw translate(e, { INVALID_PASSWORD: 'WRONG_PASSWORD' });
    }
  }

  /**
   * An admin's help for a forgotten password (there is no email to reset it by): sets a new,
   * random one-time password and signs the account out everywhere. Returns the password.
   */
  async resetPassword(user: User): Promise<string> {
    if (!user.authId) throw new ApiError('NOT_FOUND', 'A guest has no password');
    const ctx = await this.auth.$context;
    const hasPassword = (await ctx.internalAdapter.findAccounts(user.authId)).some(
      (a) => a.providerId === 'credential',
    );
    if (!hasPassword) throw new ApiError('BAD_REQUEST', 'This account signs in with GitHub and has no password');
    const password = randomBytes(9).toString('base64url');
    await ctx.internalAdapter.updatePassword(user.authId, await ctx.password.hash(password));
    await ctx.internalAdapter.deleteUserSessions(user.authId);
    return password;
  }

  /** Where to send the browser to sign in with GitHub (better-auth keeps the OAuth state in a cookie). */
  async githubUrl(req: FastifyRequest, reply: FastifyReply): Promise<string> {
    if (!this.githubEnabled) throw new ApiError('GITHUB_NOT_CONFIGURED');
    try {
      const r = await this.auth.api.signInSocial({
        body: { provider: 'github', callbackURL: '/account/', errorCallbackURL: '/account/' },
        headers: fromNodeHeaders(req.headers),
        returnHeaders: true,
      });
      forwardCookies(r.headers, reply);
      const url = (r.response as { url?: string }).url;
      if (!url) throw new ApiError('INTERNAL', 'GitHub sign-in gave no address');
      return url;
    } catch (e) {
      throw translate(e);
    }
  }

  /** The CSRF token that goes with an owner id. */
  csrfTokenFor(ownerId: string): string {
    return this.#signer.sign(`csrf:${ownerId}`).split('.').pop()!;
  }

  /**
   * A state-changing request that carries the browser's cookies must carry the CSRF token too.
   * A request without cookies has no ambient authority to abuse, so it needs none.
   */
  checkCsrf(req: FastifyRequest): void {
    const owner = req.cookies[OWNER_COOKIE];
    if (owner === undefined && !hasAuthCookie(req)) return;
    const ownerId = owner ? this.#signer.unsign(owner) : undefined;
    const given = req.headers[CSRF_HEADER];
    if (!ownerId || typeof given !== 'string' || given !== this.csrfTokenFor(ownerId)) {
      throw new ApiError('CSRF_FAILED');
    }
  }

  async #authUser(req: FastifyRequest, reply: FastifyReply): Promise<{ id: string } | undefined> {
    if (!hasAuthCookie(req)) return undefined;
    const s = await this.auth.api.getSession({ headers: fromNodeHeaders(req.headers), returnHeaders: true });
    // A session in use is renewed once a day; the renewed cookie goes back to the browser, so an
    // active learner stays signed in (and a revoked session's cookie is cleared).
    forwardCookies(s.headers, reply);
    return s.response?.user ?? undefined;
  }

  /** A new account's first request: this browser's guest becomes it, or (no guest) a new user does. */
  async #adopt(req: FastifyRequest, reply: FastifyReply, authUser: { id: string }): Promise<User> {
    const a = await this.#store.accountProfile(authUser.id);
    const account = {
      authId: authUser.id,
      username: a.username ?? `gh-${authUser.id}`,
      email: shownEmail(a.email),
      displayName: a.name || a.username || 'Learner',
    };
    const guest = await this.#guest(req, reply);
    let user: User;
    if (guest.authId === null) {
      await this.#store.ensureGuest(guest.id);
      user = await this.#store.linkAccount(guest.id, account);
    } else {
      const made = await this.#store.createUser({ username: account.username, displayName: account.displayName });
      user = await this.#store.linkAccount(made.id, account);
    }
    // Without DOCKYARD_ADMINS, a fresh install's first account is its admin: someone must be.
    if (this.#config.admins.length === 0 && (await this.#store.claimFirstAdmin(user.id))) {
      return (await this.#store.getUser(user.id))!;
    }
    return user;
  }

  /** Usernames listed in DOCKYARD_ADMINS are admins. */
  async #promote(user: User): Promise<User> {
    if (user.role === 'admin' || !this.#config.admins.includes(user.username.toLowerCase())) return user;
    return (await this.#store.setRole(user.id, 'admin')) ?? user;
  }

  /**
   * The browser's guest; a browser whose id now belongs to an account (it signed out) gets a new
   * one. A guest is stored only once it has something to keep (an attempt, a seat): every visitor
   * is a guest, and most never do anything.
   */
  async #guest(req: FastifyRequest, reply: FastifyReply): Promise<User> {
    let id = this.#cookieOwner(req);
    if (id && !req.cookies[CSRF_COOKIE]) this.#setCsrf(reply, id);
    const stored = id ? await this.#store.getUser(id) : undefined;
    if (stored?.authId) id = undefined;
    else if (stored) return stored;
    return guestUser(id ?? this.#mintOwner(reply));
  }

  #cookieOwner(req: FastifyRequest): string | undefined {
    const signed = req.cookies[OWNER_COOKIE];
    return signed ? this.#signer.unsign(signed) : undefined;
  }

  #mintOwner(reply: FastifyReply): string {
    const id = crypto.randomUUID();
    reply.setCookie(OWNER_COOKIE, this.#signer.sign(id), {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secure,
      path: '/',
      maxAge: YEAR_S,
    });
    this.#setCsrf(reply, id);
    return id;
  }

  #setCsrf(reply: FastifyReply, ownerId: string): void {
    reply.setCookie(CSRF_COOKIE, this.csrfTokenFor(ownerId), {
      httpOnly: false,
      sameSite: 'strict',
      secure: this.#secure,
      path: '/',
      maxAge: YEAR_S,
    });
  }

  async #limit(limiter: RateLimiter, req: FastifyRequest, code: ErrorCode): Promise<void> {
    const taken = await limiter.take(req.ip);
    if (!taken.ok) throw new ApiError(code, undefined, { retryAfterSeconds: taken.retryAfterSeconds });
  }
}

/** better-auth's session cookie (named `__Secure-dockyard.session_token` on https). */
const hasAuthCookie = (req: FastifyRequest) =>
  Object.keys(req.cookies).some((c) => c.endsWith(`${AUTH_COOKIE_PREFIX}.session_token`));

/** A guest not stored yet (see Accounts.#guest); Store.ensureGuest makes the same one. */
function guestUser(id: string): User {
  return {
    id,
    username: `guest-${id}`,
    email: null,
    displayName: 'Guest',
    role: 'learner',
    createdAt: Date.now(),
    authId: null,
  };
}

/** better-auth answers with Set-Cookie headers; the reply carries them to the browser. */
function forwardCookies(headers: Headers, reply: FastifyReply): void {
  for (const c of headers.getSetCookie()) reply.header('set-cookie', c);
}
