import { Admission } from './admission.js';
import { answersFor } from './answer.js';
import { toResponse, type HandlerContext, type HangtimeRequest, type PlainResponse } from './http.js';
import { Poller } from './poll.js';
import { router, type Route } from './route.js';
import { resolveSettings } from './settings.js';
import type { ChannelSchemas } from './schema.js';
import type { Hangtime, HangtimeOptions, Replier } from './types.js';
import { waitOf } from './wait.js';

// How a poll travels (docs/server.md, "How the code is laid out"): an adapter calls `respond`;
// route.ts parses it (poll-query.ts) and starts it (poll.ts), admission.ts counts it in, hold.ts
// waits on the log, and answer.ts renders the outcome into the adapter's replier.

export type { AuthDecision, Hangtime, HangtimeEvent, HangtimeOptions, Replier, Timers, WaitOptions, WaitResult } from './types.js';
export { assertResponseCap } from './answer.js';

/** The context of a request that came with none. */
const NO_CONTEXT: HandlerContext = Object.freeze({});

/**
 * Create a hangtime endpoint: a long-poll handler over an event log.
 *
 * @example
 * import { createHangtime, memoryLog } from 'hangtime';
 *
 * const hangtime = createHangtime({ log: memoryLog(), maxWaitMs: 20_000 });
 * export const GET = (request: Request) => hangtime.handler(request);
 * await hangtime.log.append('chat', { text: 'hello' });
 */
export function createHangtime<const C extends ChannelSchemas = ChannelSchemas>(
  options: HangtimeOptions & { readonly channels?: C } = {},
): Hangtime<C> {
  const settings = resolveSettings(options);
  const { log } = settings;
  const admission = new Admission(settings.maxWaiters, () => 1 + Math.floor(settings.random() * 3));
  const poller = new Poller(settings, admission);
  const direct = router(settings, poller, admission, answersFor(settings.report));
  // A poll through a GRIP proxy: src/grip/ answers it at once (calling `direct` for the read).
  const { grip } = settings;
  const route: typeof direct =
    grip === undefined
      ? direct
      : (request, context, replier) =>
          grip.intercepts(request, context) ? grip.respondInto(request, context, replier, direct) : direct(request, context, replier);
  let closed: Promise<void> | undefined;

  function respond(request: HangtimeRequest, context?: HandlerContext): Promise<PlainResponse>;
  function respond(request: HangtimeRequest, context: HandlerContext, replier: Replier): undefined;
  function respond(request: HangtimeRequest, context: HandlerContext = NO_CONTEXT, replier?: Replier): Promise<PlainResponse> | undefined {
    if (replier !== undefined) return void route(request, context, replier);
    return answerOf(route, request, context);
  }

  const instance: Hangtime = {
    log: settings.publicLog,
    respond,
    handler: async (request, context) => toResponse(await respond(request, context)),
    wait: waitOf(poller),
    stats: () => ({ waiting: admission.count }),
    close() {
      closed ??= admission.close().then(() => (settings.ownsLog ? log.close() : undefined));
      return closed;
    },
  };
  // Typed by the declaration it validates against (src/schema.ts).
  return instance as unknown as Hangtime<C>;
}

/** A route's answer as a promise. Apart from `respond`: a function whose closures capture its
 * variables allocates their context on every call, the replier's path included. */
function answerOf(route: Route, request: HangtimeRequest, context: HandlerContext): Promise<PlainResponse> {
  return new Promise((resolve) => route(request, context, { reply: resolve }));
}
