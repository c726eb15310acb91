import { decodeCursor } from '../cursor.js';
import type { HandlerContext, HangtimeRequest, PlainResponse } from '../http.js';
import { answerChannel, hintChannel } from './channels.js';
import type { GripReplier, RespondInto } from './types.js';

/**
 * The poll side of GRIP: a poll that came through the proxy (a `Grip-Sig` the key verifies) is
 * read once, at once; when it has nothing to deliver, its normal empty answer goes back with
 * hold instructions, and the proxy holds the client instead of the function:
 *
 *     Grip-Hold: response
 *     Grip-Channel: <channel>; prev-id=<the cursor's position>[, …]
 *     Grip-Timeout: <seconds>
 *
 * `prev-id` is what closes the race between the read and the proxy taking the hold: an append
 * published in between carries `prev-id` = the position the poll read at, and the proxy, which
 * remembers the last id published on each channel (pushpin.conf `id_cache_ttl`, 60 s), sees
 * that the hold is behind and asks the origin again at once (checked in test/grip/).
 */

export interface DelegatedHoldSettings {
  /** Longest `Grip-Timeout`, in seconds (the proxy has no function time limit). */
  readonly maxTimeoutSeconds: number;
  /** Polls of more channels than this are held in the function (Pushpin's
   * `connection_subscription_max`, 20 by default, caps the channels of one held request). */
  readonly maxChannels: number;
  /** Whether a `Grip-Sig` header value is signed with the proxy's key (and not expired). */
  readonly verify: (signature: string) => Promise<boolean>;
  readonly random: () => number;
  readonly onError: (error: unknown) => void;
}

/**
 * Polls asking for less than this are held in the function: Pushpin (1.36) holds at least 5 s
 * whatever `Grip-Timeout` says (measured: 1 to 5 s all answered after 5 s), longer than the
 * poll's `wait` allows.
 */
const MIN_HOLD_SECONDS = 5;

/** Contexts of requests the GRIP layer already decided on: they go the normal way. */
const decided = new WeakSet<HandlerContext>();

export class DelegatedHolds {
  readonly #settings: DelegatedHoldSettings;

  constructor(settings: DelegatedHoldSettings) {
    this.#settings = settings;
  }

  intercepts(request: HangtimeRequest, context: HandlerContext): boolean {
    return request.method === 'GET' && !decided.has(context) && request.headers.get('grip-sig') !== null;
  }

  respondInto(request: HangtimeRequest, context: HandlerContext, replier: GripReplier, next: RespondInto): void {
    const direct = (): void => next(request, decide({ ...context }), replier);
    this.#settings.verify(request.headers.get('grip-sig')!).then(
      (verified) => {
        if (!verified) return direct();
        const query = lenientQuery(request);
        const timeoutSeconds = this.#timeoutSeconds(query.waitSeconds);
        if (timeoutSeconds === undefined || query.channels > this.#settings.maxChannels) return direct();
        // `maxWaitMs: 0` caps the hold at nothing: one read, answered at once.
        next(request, decide({ ...context, maxWaitMs: 0 }), {
          reply: (answer) => replier.reply(holdInstead(answer, timeoutSeconds)),
        });
      },
      (error: unknown) => {
        this.#settings.onError(error);
        direct();
      },
    );
  }

  /** The poll's `wait`, capped by the proxy-side maximum, less a jitter of up to 1/16 (as the
   * hold in the function: clients held together do not all come back together); `undefined`
   * when the poll asks for less than the proxy's shortest hold. */
  #timeoutSeconds(waitSeconds: number | undefined): number | undefined {
    const { maxTimeoutSeconds, random } = this.#settings;
    const wanted = Math.min(waitSeconds ?? maxTimeoutSeconds, maxTimeoutSeconds);
    if (!(wanted >= MIN_HOLD_SECONDS)) return undefined;
    return Math.max(MIN_HOLD_SECONDS, Math.floor(wanted - (wanted * random()) / 16));
  }
}

function decide(context: HandlerContext): HandlerContext {
  decided.add(context);
  return context;
}

/** The empty answer of a poll, with hold instructions; any other answer as it is. */
function holdInstead(answer: PlainResponse, timeoutSeconds: number): PlainResponse {
  // The core writes an empty answer exactly so (answer.ts); events, gaps and errors
  // go to the client at once.
  if (answer.status !== 200 || !answer.body.startsWith('{"events":[],')) return answer;
  const { cursor } = JSON.parse(answer.body) as { cursor: string };
  // The server wrote this cursor a moment ago: every position in it is the log's.
  const positions = decodeCursor(cursor, () => true);
  const name = positions.size === 1 ? answerChannel : hintChannel;
  const channels = [...positions].map(([channel, position]) => `${name(channel)}; prev-id=${position}`);
  return {
    status: answer.status,
    headers: { ...answer.headers, 'grip-hold': 'response', 'grip-channel': channels.join(', '), 'grip-timeout': String(timeoutSeconds) },
    body: answer.body,
  };
}

/** What the GRIP layer needs of the query, read leniently: the core validates it (a bad one is a
 * 400, answered at once, so no hold instructions follow). */
function lenientQuery(request: HangtimeRequest): { channels: number; waitSeconds: number | undefined } {
  const at = request.url.indexOf('?');
  const query = new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1));
  let channels = 0;
  for (const value of query.getAll('channels')) channels += value.split(',').length;
  const wait = query.get('wait') ?? /(?:^|[,;\s])wait=(\d{1,6})(?:$|[,;\s])/i.exec(request.headers.get('prefer') ?? '')?.[1];
  const waitSeconds = wait === undefined || wait === null || wait === '' ? undefined : Number(wait);
  return { channels, waitSeconds: Number.isFinite(waitSeconds) ? waitSeconds : undefined };
}
