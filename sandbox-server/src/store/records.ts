// What the store hands out: camelCase records, JSON parsed, mapped from the tables' rows.
import type { ProgressRow, Role, UserRow, WorkshopMemberRow, WorkshopRow } from './schema.ts';

export interface User {
  id: string;
  username: string;
  email: string | null;
  displayName: string;
  role: Role;
  createdAt: number;
  /** The better-auth account behind this user; null while they are a guest. */
  authId: string | null;
}

/** What an attempt at an exercise is kept as: a grade report's score and checks. */
export interface AttemptResult {
  score: number;
  maxScore: number;
  passed: boolean;
  checks: readonly unknown[];
}

export interface Progress {
  userId: string;
  exerciseId: string;
  lesson: string;
  bestScore: number;
  maxScore: number;
  attempts: number;
  lastResult: AttemptResult;
  firstCompletedAt: number | null;
  lastCompletedAt: number | null;
  updatedAt: number;
}

export interface Workshop {
  id: string;
  code: string;
  title: string;
  lessons: string[];
  startsAt: number;
  endsAt: number;
  seatLimit: number;
  ownerId: string;
  createdAt: number;
}

export interface WorkshopMember {
  workshopId: string;
  userId: string;
  displayName: string;
  joinedAt: number;
}

export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  email: r.email,
  displayName: r.display_name,
  role: r.role,
  createdAt: r.created_at,
  authId: r.auth_id,
});

export const toProgress = (r: ProgressRow): Progress => ({
  userId: r.user_id,
  exerciseId: r.exercise_id,
  lesson: r.lesson,
  bestScore: r.best_score,
  maxScore: r.max_score,
  attempts: r.attempts,
  lastResult: JSON.parse(r.last_result) as AttemptResult,
  firstCompletedAt: r.first_completed_at,
  lastCompletedAt: r.last_completed_at,
  updatedAt: r.updated_at,
});

export const toWorkshop = (r: WorkshopRow): Workshop => ({
  id: r.id,
  code: r.code,
  title: r.title,
  lessons: JSON.parse(r.lessons) as string[],
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  seatLimit: r.seat_limit,
  ownerId: r.owner_id,
  createdAt: r.created_at,
});

export const toMember = (r: WorkshopMemberRow): WorkshopMember => ({
  workshopId: r.workshop_id,
  userId: r.user_id,
  displayName: r.display_name,
  joinedAt: r.joined_at,
});
