import type { Admission } from './admission.js';
import { PollSink, type Answers } from './answer.js';
import { denialFor } from './authorize.js';
import { corsHeaders, preflight, type ResolvedCors } from './cors.js';
import { errorResponse, type HandlerContext, type HangtimeRequest, type PlainResponse } from './http.js';
import { clientWaitMs, pollQueryParser } from './poll-query.js';
import type { HeldPoll } from './admission.js';
import type { PollRequest, Poller } from './poll.js';
import { publish } from './publish.js';
import type { Settings } from './settings.js';
import type { Replier } from './types.js';

/** Answers one request through a replier (called once, possibly synchronously). */
export type Route = (request: HangtimeRequest, context: HandlerContext, replier: Replier) => void;

/**
 * The routes of an instance: GET polls, POST publishes (with `authorizePublish`), OPTIONS
 * preflights (with CORS). The usual poll (no `authorize`, no CORS) goes from the log's wake-up
 * to the replier without a promise of its own: with thousands of polls held, each promise,
 * reaction and closure they keep is garbage-collector work (docs/benchmarks.md).
 */
export function router(settings: Settings, poller: Poller, admission: Admission, answers: Answers): Route {
  const { publicLog, cors, authorize, authorizePublish } = settings;
  const parsePollQuery = pollQueryParser(settings.maxChannels, settings.maxEvents);
  const denyPoll = denialFor('authorize', settings.report);
  const denyPublish = denialFor('authorizePublish', settings.report);
  const assertOpen = (): void => admission.assertOpen();

  /** The poll of a GET: its parsed query (shared by the polls of the same URL) is its input. */
  function pollOf(request: HangtimeRequest, context: HandlerContext, sink: HeldPoll): void {
    const query = parsePollQuery(request.url);
    const waitMs = clientWaitMs(query, request.headers.get('prefer'));
    poller.pollInto(query, waitMs, context, request.signal ?? context.signal, sink);
  }

  /** A poll with `authorize`: a promise chain (the decision may be async). */
  function respondToPoll(
    request: HangtimeRequest,
    context: HandlerContext,
    hook: NonNullable<Settings['authorize']>,
  ): Promise<PlainResponse> {
    const query = parsePollQuery(request.url);
    const poll: PollRequest = {
      clientWaitMs: clientWaitMs(query, request.headers.get('prefer')),
      context,
      signal: request.signal ?? context.signal,
    };
    // Not worth asking the hook during shutdown (pollInto checks again, after it).
    admission.assertOpen();
    return Promise.resolve(hook(request, query.channels)).then(
      (decision) =>
        denyPoll(decision) ??
        poller.poll(query, poll).then(({ batch, reason, heldMs }) => answers.held(batch, reason, heldMs), answers.failed),
    );
  }

  function methodNotAllowed(): PlainResponse {
    const allow = ['GET', ...(authorizePublish ? ['POST'] : []), ...(cors ? ['OPTIONS'] : [])].join(', ');
    return errorResponse(405, 'method_not_allowed', `This endpoint serves ${allow}`, { headers: { allow } });
  }

  return (request, context, replier) => {
    const out = cors === undefined ? replier : corsReplier(cors, request.headers.get('origin'), replier);
    let answer: PlainResponse | Promise<PlainResponse>;
    try {
      switch (request.method) {
        case 'GET':
          if (authorize === undefined) return pollOf(request, context, new PollSink(answers, out));
          answer = respondToPoll(request, context, authorize);
          break;
        case 'POST':
          answer =
            authorizePublish === undefined
              ? methodNotAllowed()
              : publish(request, { log: publicLog, authorize: authorizePublish, denial: denyPublish, assertOpen });
          break;
        case 'OPTIONS':
          answer = cors === undefined ? methodNotAllowed() : preflight(cors, request.headers.get('origin'), request);
          break;
        default:
          answer = methodNotAllowed();
      }
    } catch (error) {
      answer = answers.failed(error);
    }
    if (answer instanceof Promise) replyWhenSettled(answer, out, answers);
    else out.reply(answer);
  };
}

/** Reply with a promised answer. Apart from the route: a function whose closures capture its
 * variables allocates their context on every call, the polls' too. */
function replyWhenSettled(answer: Promise<PlainResponse>, out: Replier, answers: Answers): void {
  answer.then(
    (plain) => out.reply(plain),
    (error: unknown) => out.reply(answers.failed(error)),
  );
}

/** A replier that adds the CORS headers for `origin` first. */
function corsReplier(cors: ResolvedCors, origin: string | null, replier: Replier): Replier {
  return {
    reply(plain) {
      Object.assign(plain.headers, corsHeaders(cors, origin));
      replier.reply(plain);
    },
  };
}
