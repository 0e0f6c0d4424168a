// The catalogue of errors the API returns: a stable code, an HTTP status, a title and a hint.

export const errorCatalogue = {
  ENGINE_UNREACHABLE: {
    status: 503,
    title: 'The Docker Engine is not answering',
    hint: 'Check that dockerd is running (docker version) and that DOCKYARD_DOCKER_SOCKET points at its socket.',
  },
  STORE_UNREACHABLE: {
    // Not 503: a load balancer retries a 504 on another server and counts it against this one,
    // which it must not do for a full host (OUT_OF_CAPACITY, 503), shared by every server.
    status: 504,
    title: 'The database is not answering',
    hint: 'Check that PostgreSQL is running and that DATABASE_URL points at it. The server answers /readyz again by itself once the database does; nothing needs restarting.',
  },
  NOT_FOUND: {
    status: 404,
    title: 'There is nothing at this address',
    hint: 'Check the URL; the API lives under /api.',
  },
  SESSION_NOT_FOUND: {
    status: 404,
    title: 'This sandbox session does not exist (any more)',
    hint: 'It may have expired or been ended. Start a new sandbox from the lesson page.',
  },
  OUT_OF_CAPACITY: {
    status: 503,
    title: 'All sandboxes are in use right now',
    hint: "Try again in a few minutes: a sandbox is freed whenever someone else's ends.",
  },
  KERNEL_LIMITS_TOO_LOW: {
    status: 503,
    title: "This host's kernel limits are too low for its configured number of sandboxes",
    hint: 'Run `npm run setup` as root: it raises them and keeps them in /etc/sysctl.d/60-dockyard.conf. Or lower DOCKYARD_MAX_SANDBOXES to the number the detail says fits.',
  },
  SANDBOX_AT_LIMIT: {
    status: 409,
    title: 'Your sandbox has reached one of its limits',
    hint: 'It cannot start anything new until something stops. Remove containers you no longer need (`docker ps -a`, then `docker rm -f NAME`), end programs you started, or reset the sandbox from the lesson page.',
  },
  SANDBOX_STOPPED: {
    status: 409,
    title: 'Your sandbox has stopped',
    hint: 'Press Reset, above the terminal, for a fresh sandbox. What was in this one (containers, images, files) is gone.',
  },
  TERMINAL_ELSEWHERE: {
    status: 409,
    title: 'This terminal is open in another window',
    hint: 'The same lesson is open in another tab or window, which shows this terminal now. Close this tab, or reload it to bring the terminal back here.',
  },
  TOO_MANY_NODES: {
    status: 409,
    title: 'This session already has as many nodes as it may',
    hint: 'Remove a node you no longer need (the × beside its name in the Nodes bar), then add one again.',
  },
  NODES_UNSUPPORTED: {
    status: 501,
    title: 'Sandboxes on this host run under gVisor, where a session has one node',
    hint: 'gVisor does not see a network added to a running sandbox, so the playground cannot add nodes and the Swarm lessons cannot form their Swarm here. They work on a host with DOCKYARD_SANDBOX_RUNTIME=runc.',
  },
  NODE_NOT_FOUND: {
    status: 404,
    title: 'This session has no such node',
    hint: 'It may have been removed, or the session reset. Reload the page to see the nodes it has.',
  },
  FIRST_NODE_STAYS: {
    status: 409,
    title: 'The first node is the session itself',
    hint: 'Remove the other nodes instead, or end the session to remove everything.',
  },
  SWARM_FAILED: {
    status: 502,
    title: 'The nodes could not form a Swarm',
    hint: 'The detail names the node and what Docker said. A node already in another swarm must leave it first (`docker swarm leave --force` in its terminal), or reset the session to start over.',
  },
  RATE_LIMITED: {
    status: 429,
    title: 'Too many new sandboxes from your network just now',
    hint: 'Wait a few minutes: the lesson page tries again by itself. A sandbox you already have keeps working.',
  },
  SANDBOX_FAILED: {
    status: 502,
    title: 'Your sandbox could not be started',
    hint: 'Try again. If it keeps failing, tell whoever runs this Dockyard: the server log says why.',
  },
  WS_ORIGIN_REFUSED: {
    status: 403,
    title: 'This page is not allowed to open a terminal',
    hint: 'Open Dockyard from its own address. Administrators: add the origin to DOCKYARD_ALLOWED_ORIGINS.',
  },
  ORIGIN_REFUSED: {
    status: 403,
    title: 'This page may not change your sandbox',
    hint: 'Use Dockyard from its own address. Administrators: add the origin to DOCKYARD_ALLOWED_ORIGINS.',
  },
  WS_TICKET_INVALID: {
    status: 401,
    title: 'The terminal connection ticket is missing, expired or not yours',
    hint: 'Reload the page to get a fresh ticket.',
  },
  BAD_MESSAGE: {
    status: 400,
    title: 'The server did not understand a message',
    hint: 'Reload the page; if it persists, the client and server versions may differ.',
  },
  BAD_REQUEST: {
    status: 400,
    title: 'The request is not valid',
    hint: 'Correct what the detail names (a form shows it beside the field), then try again.',
  },
  EXERCISE_NOT_FOUND: {
    status: 404,
    title: 'There is no such exercise',
    hint: 'Reload the lesson: the exercise may have been renamed since the page was opened.',
  },
  FILE_PATH_INVALID: {
    status: 400,
    title: 'That path is outside your working directory',
    hint: 'Use a path inside ~/work, such as Dockerfile or app/server.js.',
  },
  FILE_NOT_FOUND: {
    status: 404,
    title: 'There is no such file or folder',
    hint: 'Check the name; the file list shows what is in ~/work.',
  },
  FILE_TOO_LARGE: {
    status: 413,
    title: 'That file is too large for the editor',
    hint: 'Edit large files in the terminal (nano or vim) instead.',
  },
  FILE_NOT_A_FILE: {
    status: 400,
    title: 'That path is a folder, not a file',
    hint: 'Pick a file inside it from the file list.',
  },
  PREVIEW_FORBIDDEN: {
    status: 403,
    title: 'This preview is private',
    hint: 'Open it from your lesson: the port buttons next to the terminal let you in. Their links work for two minutes, so open a fresh one if this one is old.',
  },
  PREVIEW_UNREACHABLE: {
    status: 502,
    title: 'Nothing answers on this port in your sandbox',
    hint: 'Check that a running container publishes it: `docker ps` should show something like 0.0.0.0:8080->80/tcp. A server that has just started may need a few seconds; then reload.',
  },
  ENGINE_WITHOUT_USERNS: {
    status: 503,
    title: 'The Docker Engine runs without user namespaces',
    hint: 'Turn them on: add "userns-remap": "default" to the engine\'s daemon.json (/etc/docker/daemon.json) and restart it (existing images and containers are not visible to a remapped engine). Or, knowing that sandbox root is then the host\'s root, set DOCKYARD_ALLOW_NO_USERNS=1.',
  },
  RUNTIME_UNKNOWN: {
    status: 503,
    title: 'The Docker Engine does not know the configured sandbox runtime',
    hint: 'Register the runtime under "runtimes" in the engine\'s daemon.json and restart the engine, or set DOCKYARD_SANDBOX_RUNTIME to one that `docker info` lists.',
  },
  RUNTIME_CANNOT_HOST_ENGINE: {
    status: 503,
    title: 'Sandboxes on the configured runtime cannot start their own Docker Engine',
    hint: 'Set DOCKYARD_SANDBOX_RUNTIME=runc, or use a runsc that works on this kernel: `npm run setup` provides one (see docs/security.md, "The runtime").',
  },
  SWARM_NOT_READY: {
    status: 503,
    title: 'The Swarm cannot run sandboxes',
    hint: 'With DOCKYARD_DRIVER=swarm the server runs on a Swarm manager (DOCKYARD_DOCKER_SOCKET is its engine), and at least one sandbox host is labelled: docker node update --label-add org.dockyard.sandboxes=true HOST. docs/swarm.md sets up a sandbox host.',
  },
  WORKSHOP_NOT_FOUND: {
    status: 404,
    title: 'There is no workshop with this code',
    hint: 'Check the code with your instructor: it has six letters and digits, such as K7QM2X.',
  },
  TOO_MANY_JOIN_TRIES: {
    status: 429,
    title: 'Too many wrong workshop codes from your network',
    hint: 'Check the code with your instructor, then try again in a few minutes.',
  },
  WORKSHOP_FULL: {
    status: 409,
    title: 'This workshop is full',
    hint: 'Every seat is taken. Ask your instructor to raise the seat limit; meanwhile you can follow the course on your own.',
  },
  CSRF_FAILED: {
    status: 403,
    title: 'This request is missing its safety token',
    hint: 'Reload the page and try again.',
  },
  SIGN_IN_REQUIRED: {
    status: 401,
    title: 'Sign in first',
    hint: 'Sign in or create an account on the account page, then try again.',
  },
  FORBIDDEN: {
    status: 403,
    title: 'Your account may not do this',
    hint: 'Instructors create and run workshops, and admins manage the platform. An admin changes roles on the Admin page (/admin/): ask one. Hosting Dockyard yourself? Its first account is the admin, and DOCKYARD_ADMINS names more.',
  },
  SIGN_IN_FAILED: {
    status: 401,
    title: 'That username or password is not right',
    hint: 'Check both and try again. Usernames are not case-sensitive; passwords are.',
  },
  WRONG_PASSWORD: {
    status: 401,
    title: 'Your current password is not right',
    hint: 'Type the password you sign in with now. Forgot it? An admin of this Dockyard can give you a one-time password on the Admin page: ask them, or your instructor.',
  },
  USERNAME_TAKEN: {
    status: 409,
    title: 'That username is taken',
    hint: 'Pick another one, or sign in if it is yours.',
  },
  EMAIL_TAKEN: {
    status: 409,
    title: 'There is already an account with this email',
    hint: 'Sign in instead, or use another email.',
  },
  WEAK_PASSWORD: {
    status: 400,
    title: 'That password is too short',
    hint: 'Use at least 8 characters (at most 128). A few unrelated words make a good one.',
  },
  TOO_MANY_SIGN_INS: {
    status: 429,
    title: 'Too many sign-in attempts from your network',
    hint: 'Wait a few minutes, then try again.',
  },
  TOO_MANY_SIGN_UPS: {
    status: 429,
    title: 'Too many new accounts from your network',
    hint: 'Wait a few minutes, then try again.',
  },
  GITHUB_NOT_CONFIGURED: {
    status: 404,
    title: 'GitHub sign-in is not set up here',
    hint: 'Sign in with a username and password instead.',
  },
  DISPLAY_NAME_REQUIRED: {
    status: 400,
    title: 'Tell the class your name',
    hint: 'Type the name your instructor should see (1 to 40 characters), then join.',
  },
  WORKSHOP_OVER: {
    status: 409,
    title: 'This workshop has ended',
    hint: 'Ask your instructor for the code of a current one; the course is still open to you on your own.',
  },
  COURSE_NOT_COMPLETE: {
    status: 409,
    title: 'The course is not complete yet',
    hint: 'A completion page comes once every exercise of the course is passed; the course page says how many are left.',
  },
  COMPLETION_NOT_FOUND: {
    status: 404,
    title: 'There is no completion page at this address',
    hint: 'Check that the link was copied whole. A page also goes when its learner deletes their account.',
  },
  INTERNAL: {
    status: 500,
    title: 'Something went wrong on our side',
    hint: 'Try again in a moment. If it keeps happening, the server log has the details.',
  },
} as const satisfies Record<string, { status: number; title: string; hint: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The JSON body of every API error. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    title: string;
    hint: string;
    detail?: string;
    retryAfterSeconds?: number;
    fields?: Record<string, string>;
  };
}

/** Machine-readable extras some errors carry. */
export interface ErrorExtra {
  retryAfterSeconds?: number;
  /** BAD_REQUEST: what is wrong with each field, by its name in the request ("username": "…"). */
  fields?: Record<string, string>;
}

/** An error the API reports with its catalogue entry. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extra: ErrorExtra;
  constructor(code: ErrorCode, detail?: string, extra: ErrorExtra = {}) {
    super(detail ?? errorCatalogue[code].title);
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.extra = extra;
  }

  toBody(): ErrorBody {
    const { title, hint } = errorCatalogue[this.code];
    const detail = this.message !== title ? { detail: this.message } : {};
    return { error: { code: this.code, title, hint, ...detail, ...this.extra } };
  }
}
