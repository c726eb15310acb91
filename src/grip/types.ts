import type { HandlerContext, HangtimeRequest, PlainResponse } from '../http.js';
import type { EventLog } from '../log.js';

/** Receives the answer to a request (the core's `Replier`). */
export interface GripReplier {
  reply(answer: PlainResponse): void;
}

/** The core's request path, as the GRIP layer calls it back. */
export type RespondInto = (request: HangtimeRequest, context: HandlerContext, replier: GripReplier) => void;

/**
 * What `createHangtime({ grip })` takes: a GRIP proxy in front of the endpoint (Pushpin, Fastly
 * Fanout), built by `gripProxy()` of `hangtime/grip`. The core calls it in two places only: it
 * wraps the log (so every append publishes to the proxy), and it sees every request first (so a
 * poll that came through the proxy is answered at once, with hold instructions when empty).
 * Everything GRIP lives in `src/grip/`; the core imports this type only.
 */
export interface GripDelegate {
  /** The log, publishing each append to the proxy. */
  publishing(log: EventLog): EventLog;
  /** Whether this request is the GRIP layer's to answer (a poll carrying `Grip-Sig`). */
  intercepts(request: HangtimeRequest, context: HandlerContext): boolean;
  /** Answer an intercepted request, calling `next` for the poll itself. */
  respondInto(request: HangtimeRequest, context: HandlerContext, replier: GripReplier, next: RespondInto): void;
}
