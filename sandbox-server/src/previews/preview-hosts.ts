// Preview addresses: one origin per session and port, under the preview base URL, e.g.
// http://p8080-0123456789abcdef.localhost:8081/. Each is its own origin, so one learner's app can
// read neither the platform's pages nor another learner's preview. Browsers resolve any
// *.localhost name to this machine, so the default works with no DNS set-up.

export interface PreviewTarget {
  sessionId: string;
  port: number;
}

const SESSION_ID = /^[0-9a-f]{16}$/;

export class PreviewHosts {
  readonly #base: URL;

  /** `base`: the preview base URL learners' browsers reach (scheme, domain, optional port). */
  constructor(base: string) {
    this.#base = new URL(base);
  }

  get secure(): boolean {
    return this.#base.protocol === 'https:';
  }

  /** The preview origin's URL of `path` for this session and port. */
  url({ sessionId, port }: PreviewTarget, path = '/'): string {
    const u = new URL(path, this.#base);
    u.hostname = `p${port}-${sessionId}.${this.#base.hostname}`;
    return u.toString();
  }

  /** The session and port a request's Host header names, or undefined for any other host. */
  parse(hostHeader: string | undefined): PreviewTarget | undefined {
    if (!hostHeader) return undefined;
    let hostname: string;
    try {
      hostname = new URL(`http://${hostHeader}`).hostname;
    } catch {
      return undefined;
    }
    const suffix = `.${this.#base.hostname}`;
    if (!hostname.endsWith(suffix)) return undefined;
    const m = /^p(\d{1,5})-([0-9a-f]+)$/.exec(hostname.slice(0, -suffix.length));
    if (!m) return undefined;
    const port = Number(m[1]);
    if (port < 1 || port > 65535 || !SESSION_ID.test(m[2]!)) return undefined;
    return { sessionId: m[2]!, port };
  }
}
