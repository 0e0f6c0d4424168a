// The store's tables as Kysely sees them. Timestamps are integers, ms since the epoch, so SQLite
// and PostgreSQL give back the same values; JSON is kept as text for the same reason.
import type { Insertable, Selectable } from 'kysely';

export type Role = 'learner' | 'instructor' | 'admin';

export interface UsersTable {
  id: string;
  username: string;
  email: string | null;
  display_name: string;
  role: Role;
  created_at: number;
  /** The better-auth user this user signed up as; null for a guest. */
  auth_id: string | null;
}

export interface ProgressTable {
  user_id: string;
  exercise_id: string;
  lesson: string;
  best_score: number;
  max_score: number;
  attempts: number;
  /** JSON: the last attempt's { score, maxScore, passed, checks }. */
  last_result: string;
  first_completed_at: number | null;
  last_completed_at: number | null;
  updated_at: number;
}

export interface WorkshopsTable {
  id: string;
  code: string;
  title: string;
  /** JSON: the lesson slugs, in order. */
  lessons: string;
  starts_at: number;
  ends_at: number;
  seat_limit: number;
  owner_id: string;
  created_at: number;
}

export interface WorkshopMembersTable {
  workshop_id: string;
  user_id: string;
  display_name: string;
  joined_at: number;
}

/** A learner's completion page: `id` is the unguessable part of its link (128 random bits). */
export interface CompletionsTable {
  id: string;
  user_id: string;
  created_at: number;
}

/** The columns of better-auth's user table that Dockyard reads (better-auth owns the table). */
export interface AuthUserTable {
  id: string;
  name: string;
  email: string;
  username: string | null;
}

export interface SessionsTable {
  id: string;
  owner_id: string;
  sandbox_id: string;
  lesson: string | null;
  /** JSON: the nodes added to the session, [{ name, sandboxId }]. */
  nodes: string;
  /** 1 when the session's peer network exists and node1 is on it. */
  peered: number;
  created_at: number;
  last_activity_at: number;
  expires_at: number;
}

export interface RateEventsTable {
  bucket: string;
  key: string;
  at: number;
}

/** Who holds a named lease, and until when (ms since the epoch); see `leases.ts`. */
export interface LeasesTable {
  name: string;
  holder: string;
  until: number;
}

/** A workshop's last broadcast: its text, the instructor's display name, when it was sent. */
export interface BroadcastsTable {
  workshop_id: string;
  text: string;
  sender: string;
  sent_at: number;
}

/** A ready sandbox of the warm pool, or one a server took (`taken_at`); see `warm-shelf.ts`. */
export interface WarmSandboxesTable {
  sandbox_id: string;
  ready_at: number;
  taken_at: number | null;
}

export interface Schema {
  auth_user: AuthUserTable;
  users: UsersTable;
  progress: ProgressTable;
  workshops: WorkshopsTable;
  workshop_members: WorkshopMembersTable;
  completions: CompletionsTable;
  sessions: SessionsTable;
  rate_events: RateEventsTable;
  leases: LeasesTable;
  broadcasts: BroadcastsTable;
  warm_sandboxes: WarmSandboxesTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type ProgressRow = Selectable<ProgressTable>;
export type WorkshopRow = Selectable<WorkshopsTable>;
export type WorkshopMemberRow = Selectable<WorkshopMembersTable>;
