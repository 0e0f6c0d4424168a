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
    /** Its nodes: node1, then any added in the playground (node2...). */
    nodes: string[];
  }>;
  /** Accounts only; guests are counted. */
  users: Array<AccountView & { createdAt: number }>;
  guests: number;
}

/** An exercise as a completion page lists it: when the learner first passed it (null: not yet). */
export interface CompletedExercise {
  id: string;
  title: string;
  passedAt: number | null;
}

/** A lesson with exercises, as a completion page groups them. */
export interface CompletedLesson {
  slug: string;
  title: string;
  /** The title of the module it belongs to. */
  module: string;
  exercises: CompletedExercise[];
}

/** Where a learner stands in the whole course, from the store's progress. */
export interface CourseStanding {
  /** Exercises in the course. */
  exercises: number;
  /** How many of them the learner has passed. */
  passed: number;
  /** Every exercise passed. */
  complete: boolean;
  /** When the last of them was first passed; null until complete. */
  completedAt: number | null;
  /** Lessons that have exercises, in course order. */
  lessons: CompletedLesson[];
}

/** GET /api/completions/:id: a completion page, as anyone with its link sees it. */
export interface CompletionPage extends CourseStanding {
  learner: { displayName: string };
  /** When the learner made the page (the course may have gained exercises since). */
  createdAt: number;
}

/** GET and POST /api/completion: the caller's count, and their completion page once they have one. */
export interface MyCompletion {
  exercises: number;
  passed: number;
  /** A guest (no account) cannot have a completion page. */
  guest: boolean;
  completion: { id: string; url: string; createdAt: number } | null;
}
