// Notifications between the servers that share a database: "a learner passed", "a broadcast was
// sent". On PostgreSQL they are its own LISTEN/NOTIFY, so no broker is needed; on SQLite (one
// process) they stay in the process. Both deliver asynchronously, JSON-encoded, to every
// subscriber of the channel, the publisher's own included. Delivery is at most once: a listener
// whose connection dropped misses what was sent meanwhile, and is told (onReconnect) so that it can
// read again from the store what it may have missed.
import pg from 'pg';

export interface Notifier {
  /** Sends `payload` (JSON, at most MAX_PAYLOAD_BYTES encoded) to every subscriber of `channel`. */
  publish(channel: string, payload: unknown): Promise<void>;
  /** Calls `fn` with each payload published on `channel` from now on; returns the unsubscribe function. */
  subscribe(channel: string, fn: (payload: unknown) => void): () => void;
  /** Calls `fn` after the notifier lost its connection and got it back; returns the unsubscribe function. */
  onReconnect(fn: () => void): () => void;
  close(): Promise<void>;
}

export interface NotifierOptions {
  /** Called after each reconnection, as the ones given to `onReconnect`. */
  onReconnect?: () => void;
  log?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
}

/** PostgreSQL's limit is 8000 bytes; the rest is room for the channel name. */
export const MAX_PAYLOAD_BYTES = 7900;
/** Waits between reconnection attempts, in ms: doubled from the first up to the last. */
export const RECONNECT_MS = { first: 500, max: 5000 };
const CHANNEL = /^[a-z][a-z0-9_]{0,39}$/;

/** The subscribers in this process, by scope. */
const hubs = new Map<string, Subscribers>();

/** The notifications of one process: notifiers made with the same `scope` (a database file) share them. */
export function localNotifier(scope = '', options: NotifierOptions = {}): Notifier {
  let hub = hubs.get(scope);
  if (!hub) hubs.set(scope, (hub = new Subscribers(options.log)));
  const shared = hub;
  const mine = new Set<() => void>();
  let closed = false;
  return {
    async publish(channel, payload) {
      if (closed) throw new Error('The notifier is closed');
      const text = encode(channel, payload);
      // Later, like PostgreSQL's, so a publisher never runs its subscribers inside its own call.
      setImmediate(() => shared.deliver(channel, text));
    },
    subscribe(channel, fn) {
      checkChannel(channel);
      const off = shared.add(channel, fn);
      const unsubscribe = () => {
        mine.delete(unsubscribe);
        off();
      };
      mine.add(unsubscribe);
      return unsubscribe;
    },
    // One process never loses its own notifications.
    onReconnect: () => () => undefined,
    async close() {
      closed = true;
      for (const off of [...mine]) off();
    },
  };
}

/**
 * PostgreSQL's LISTEN/NOTIFY: one connection of its own listens (channels are prefixed `dockyard_`),
 * and a small pool publishes. When the listening connection drops (PostgreSQL restarted), it
 * reconnects with backoff, listens again to every channel and calls the onReconnect functions.
 */
export function postgresNotifier(connectionString: string, options: NotifierOptions = {}): Notifier {
  return new PostgresNotifier(connectionString, options);
}

class PostgresNotifier implements Notifier {
  readonly #url: string;
  readonly #log: NotifierOptions['log'];
  readonly #subscribers: Subscribers;
  readonly #reconnected = new Set<() => void>();
  readonly #pool: pg.Pool;
  #client: pg.Client | undefined;
  /** The connection being opened, then the LISTEN and UNLISTEN commands sent on it, in order. */
  #pending: Promise<unknown> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  #backoff = RECONNECT_MS.first;
  #attempts = 0;
  #closed = false;

  constructor(url: string, options: NotifierOptions) {
    this.#url = url;
    this.#log = options.log;
    this.#subscribers = new Subscribers(options.log, (channel, first) => this.#listen(channel, first));
    if (options.onReconnect) this.#reconnected.add(options.onReconnect);
    this.#pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    // An idle connection closed by PostgreSQL (a restart): the pool makes a new one when next asked.
    this.#pool.on('error', () => undefined);
    // The same for a connection that drops while publishing: the publish fails, the process goes on.
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
    void this.#connect();
  }

  async publish(channel: string, payload: unknown): Promise<void> {
    if (this.#closed) throw new Error('The notifier is closed');
    const text = encode(channel, payload);
    // A subscription made before this publish hears it: its LISTEN (and the connection it goes
    // through, if that is being opened) comes first.
    let waited: Promise<unknown> | undefined;
    while (waited !== this.#pending) await (waited = this.#pending);
    await this.#pool.query('select pg_notify($1, $2)', [`dockyard_${channel}`, text]);
  }

  subscribe(channel: string, fn: (payload: unknown) => void): () => void {
    checkChannel(channel);
    return this.#subscribers.add(channel, fn);
  }

  onReconnect(fn: () => void): () => void {
    this.#reconnected.add(fn);
    return () => this.#reconnected.delete(fn);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await Promise.all([client?.end().catch(() => undefined), this.#pool.end()]);
  }

  async #connect(): Promise<void> {
    this.#retry = undefined;
    const attempt = ++this.#attempts;
    const client = new pg.Client({ connectionString: this.#url, keepAlive: true, connectionTimeoutMillis: 5000 });
    let lost = false;
    const drop = (err?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      void client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#log?.warn({ err, retryInMs: this.#backoff }, 'lost the connection that listens for notifications');
      this.#retry = setTimeout(() => void this.#connect(), this.#backoff);
      this.#retry.unref();
      this.#backoff = Math.min(this.#backoff * 2, RECONNECT_MS.max);
    };
    client.on('error', drop);
    client.on('end', () => drop());
    client.on('notification', (n) => {
      if (n.channel.startsWith('dockyard_') && n.payload !== undefined)
        this.#subscribers.deliver(n.channel.slice('dockyard_'.length), n.payload);
    });
    const opening = (async () => {
      await client.connect();
      if (this.#closed) return void (await client.end().catch(() => undefined));
      this.#client = client;
      await Promise.all(this.#subscribers.channels().map((c) => client.query(`LISTEN ${ident(c)}`)));
    })();
    // Bounded by connectionTimeoutMillis; a publisher waits for it, not for the retries after it.
    this.#pending = opening.catch(() => undefined);
    try {
      await opening;
    } catch (err) {
      return drop(err);
    }
    if (this.#closed) return;
    this.#backoff = RECONNECT_MS.first;
    // Anything sent while nobody listened here is lost: the callers read it again from the store.
    if (attempt > 1) {
      this.#log?.info?.({}, 'listening for notifications again');
      for (const fn of [...this.#reconnected]) safely(fn, this.#log);
    }
  }

  /** LISTEN on the first subscriber of a channel, UNLISTEN after the last (when connected). */
  #listen(channel: string, first: boolean): void {
    const client = this.#client;
    if (!client) return; // #connect listens to every channel when it is back
    const command = `${first ? 'LISTEN' : 'UNLISTEN'} ${ident(channel)}`;
    // The client runs its queries in order; a failure means a lost connection, which #connect mends.
    this.#pending = Promise.all([this.#pending, client.query(command)]).catch(() => undefined);
  }
}

/** The subscribers of each channel, and delivery to them. */
class Subscribers {
  readonly #byChannel = new Map<string, Set<(payload: unknown) => void>>();
  readonly #log: NotifierOptions['log'];
  readonly #onChange: ((channel: string, first: boolean) => void) | undefined;

  constructor(log: NotifierOptions['log'], onChange?: (channel: string, first: boolean) => void) {
    this.#log = log;
    this.#onChange = onChange;
  }

  channels(): string[] {
    return [...this.#byChannel.keys()];
  }

  add(channel: string, fn: (payload: unknown) => void): () => void {
    let fns = this.#byChannel.get(channel);
    if (!fns) {
      this.#byChannel.set(channel, (fns = new Set()));
      this.#onChange?.(channel, true);
    }
    // The same function subscribed twice is called twice, and each unsubscribe removes one.
    const wrapped = (payload: unknown) => fn(payload);
    fns.add(wrapped);
    return () => {
      if (!fns.delete(wrapped) || fns.size > 0 || this.#byChannel.get(channel) !== fns) return;
      this.#byChannel.delete(channel);
      this.#onChange?.(channel, false);
    };
  }

  deliver(channel: string, text: string): void {
    const fns = this.#byChannel.get(channel);
    if (!fns) return;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (err) {
      return this.#log?.warn({ err, channel }, 'a notification that is not JSON was ignored');
    }
    for (const fn of [...fns]) safely(() => fn(payload), this.#log);
  }
}

function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) {
    throw new Error(`Notification channel "${channel}": use lower-case letters, digits and _ (at most 40)`);
  }
}

function encode(channel: string, payload: unknown): string {
  checkChannel(channel);
  const text = JSON.stringify(payload ?? null);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new Error(
      `Notification on "${channel}" is ${bytes} bytes, over the ${MAX_PAYLOAD_BYTES} bytes PostgreSQL carries: ` +
        'send an id and let the subscribers read the rest from the store',
    );
  }
  return text;
}

const ident = (channel: string) => `"dockyard_${channel}"`;

/** A subscriber's throw is logged, never passed to the publisher or the other subscribers. */
function safely(fn: () => void, log: NotifierOptions['log']): void {
  try {
    fn();
  } catch (err) {
    log?.warn({ err }, 'a notification subscriber failed');
  }
}
