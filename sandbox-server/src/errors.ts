// The catalogue of errors the API returns: a stable code, an HTTP status, a title and a hint.

export const errorCatalogue = {
  ENGINE_UNREACHABLE: {
    status: 503,
    title: 'The Docker Engine is not answering',
    hint: 'Check that dockerd is running (docker version) and that DOCKYARD_DOCKER_SOCKET points at its socket.',
  },
  NOT_FOUND: {
    status: 404,
    title: 'There is nothing at this address',
    hint: 'Check the URL; the API lives under /api.',
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
  error: { code: ErrorCode; title: string; hint: string; detail?: string };
}

/** An error the API reports with its catalogue entry. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ?? errorCatalogue[code].title);
    this.code = code;
    this.status = errorCatalogue[code].status;
  }

  toBody(): ErrorBody {
    const { title, hint } = errorCatalogue[this.code];
    return { error: { code: this.code, title, hint, ...(this.message !== title ? { detail: this.message } : {}) } };
  }
}
