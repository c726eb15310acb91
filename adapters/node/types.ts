import type { Server } from 'node:http';
import type { Hangtime } from '../../src/hangtime.js';
import type { WebHandler } from '../../src/http.js';

export interface NodeAdapterOptions {
  /** Give every request a deadline this many ms after it arrives (a platform-like limit).
   * Default: none; holds are bounded by `maxWaitMs` only. */
  readonly timeLimitMs?: number;
  /** Largest request body read, in bytes. Default `8 * 1024 * 1024`. */
  readonly maxBodyBytes?: number;
  /** Receives errors of a Web handler that threw. Never `console`. */
  readonly onError?: (error: unknown) => void;
}

/** {@link NodeAdapterOptions} and where to listen. */
export interface ServeOptions extends NodeAdapterOptions {
  /** Default `3000`; `0` lets the system choose. */
  readonly port?: number;
  /** Default `'127.0.0.1'`. */
  readonly hostname?: string;
}

export interface NodeServer {
  readonly server: Server;
  /** `http://host:port`, with the port the system chose when `port` was 0. */
  readonly url: string;
  /**
   * Shut down gracefully: `hangtime.close()` first (held polls get their normal answer and
   * cursor, new ones a 503 `shutting_down`; a hangtime instance served directly), then stop
   * accepting connections. Every answer from now on closes its connection, idle keep-alive
   * connections are closed, and requests still running (a Web handler's) get up to 5 s to
   * answer before theirs are cut. Resolves when the server is closed. Idempotent.
   */
  close(): Promise<void>;
}

/** What the Node adapter serves: a hangtime instance (or anything with its `respond`), or a Web handler. */
export type NodeTarget = Pick<Hangtime, 'respond'> | WebHandler;

/** What a listener's requests share with the server that runs it. */
export interface ListenerState {
  /** The server is shutting down: answers close their connection (no keep-alive). */
  closing: boolean;
}
