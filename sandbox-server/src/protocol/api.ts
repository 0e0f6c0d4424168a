// What the REST API answers for accounts, workshops and the admin page: the types the server's
// routes return and the site reads, so the two cannot drift apart.
import type { Role } from '../store/schema.ts';

export type { Role };

/** A user as they and admins see them (GET /api/me, sign-up, sign-in, sign-out, admin). */
export interface AccountView {
  id: string;
  /** null for a guest. */
  username: string | null;
  displayName: string;
  email: string | null;
  role: Role;
  /** This browser's own user, without an account. */
  guest: boolean;
}

/** GET /api/me */
export interface Me {
  user: AccountView;
  /** GitHub sign-in is configured. */
  github: boolean;
  /** Workshops this user joined, latest first. */
  workshops: Array<{ code: string; title: string; lessons: string[] }>;
}

/** A workshop as its instructor sees it (POST, PATCH and GET /api/workshops). */
export interface WorkshopView {
  id: string;
  code: string;
  title: string;
  lessons: string[];
  startsAt: number;
  endsAt: number;
  seatLimit: number;
  joinUrl: string;
  members: number;
}

/** A workshop as anyone with its code sees it (GET /api/workshops/join/:code). */
export interface PublicWorkshopView {
  code: string;
  title: string;
  lessons: string[];
  startsAt: number;
  endsAt: number;
  seatsLeft: number;
  instructor: string;
}

/** GET /api/admin/overview */
export interface AdminOverview {
  capacity: { sessions: number; pool: number; creating: number; capacity: number };
  sessions: Array<{
    id: string;
    owner: { id: string; displayName: string; username: string | null };
    sandboxId: string;
    state: string;
    createdAt: number;
    endsAt: number;
    lesson: string | null;
  }>;
  /** Accounts only; guests are counted. */
  users: Array<AccountView & { createdAt: number }>;
  guests: number;
}
