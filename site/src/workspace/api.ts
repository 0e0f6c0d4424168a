// The server's REST API, as the workspace uses it: JSON in and out, errors with their catalogue code.

export interface ApiErrorBody {
  code: string;
  title: string;
  hint: string;
  detail?: string;
  retryAfterSeconds?: number;
  /** BAD_REQUEST: each wrong field's message, by the field's name. */
  fields?: Record<string, string>;
}

export class ApiFailure extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(body.title);
    this.status = status;
    this.body = body;
  }
}

/** The CSRF token the server put in a readable cookie; echoed in a header on every change. */
export function csrfToken(): string | undefined {
  const m = /(?:^|;\s*)dockyard_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  const token = method === 'GET' || method === 'HEAD' ? undefined : csrfToken();
  if (token) headers['x-csrf-token'] = token;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiFailure(0, {
      code: 'OFFLINE',
      title: 'The server cannot be reached',
      hint: 'Check your connection; the workspace tries again by itself.',
    });
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) throw new ApiFailure(res.status, (json as { error: ApiErrorBody }).error);
  return json as T;
}

export interface SessionView {
  id: string;
  state: 'creating' | 'ready' | 'expiring' | 'expired';
  expiresAt: number;
  endsAt: number;
  /** The session's nodes: node1, then any added (node2...). */
  nodes?: string[];
  /** The kernel its sandboxes run on: notes for gVisor hosts show only there. */
  kernel?: 'host' | 'gvisor';
}
