import { isChannel } from './channels.js';
import { badRequest, HangtimeError, isAppendUncertainError } from './errors.js';
import { jsonResponse, parseQuery, type HangtimeRequest, type PlainResponse } from './http.js';
import { isAppendId, type EventLog } from './log.js';
import type { AuthDecision } from './types.js';
import { isInvalidEventError, issuesForAnswer } from './schema.js';

/** Room for `{"channel":"…","data":…}` around the largest accepted event. */
const BODY_OVERHEAD_BYTES = 1024;

/**
 * Deepest nesting of arrays and objects in a published event's `data`. Without a bound, the
 * outcome depended on the stack: `JSON.parse` is iterative in V8 and takes any depth, but
 * `JSON.stringify` (the log serialises the data) is recursive and overflows somewhere between
 * 3,000 and 5,000 levels, depending on how deep the call already is. 64 leaves room for the
 * three levels an answer adds around the data under common parsers' own defaults (Ruby's
 * `max_nesting` 100, serde_json 128, Redis cjson 1000), so every client can read what is
 * accepted. Events appended by backend code are not bounded here (the log's contract applies).
 */
const MAX_EVENT_DEPTH = 64;

interface PublishDeps {
  readonly log: EventLog;
  readonly authorize: (request: HangtimeRequest, channel: string) => AuthDecision | Promise<AuthDecision>;
  readonly denial: (decision: AuthDecision) => PlainResponse | undefined;
  /** Throws the 503 `shutting_down` once the server is shutting down. */
  readonly assertOpen: () => void;
}

/** `POST {"channel","data"}`: the optional publish route (docs/protocol.md, "Publishing"). */
export async function publish(request: HangtimeRequest, { log, authorize, denial, assertOpen }: PublishDeps): Promise<PlainResponse> {
  assertOpen();
  // A publish defines no query parameter: any one (a typo, a poll's `channels`) is refused, as a
  // poll refuses those it does not define, rather than silently ignored.
  const [unknown] = parseQuery(request.url).keys();
  if (unknown !== undefined) throw badRequest('unknown_parameter', `Unknown parameter \`${unknown.slice(0, 40)}\``);
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HangtimeError('unsupported_media_type', 415, 'Publish with `Content-Type: application/json`');
  }
  const declared = Number(request.headers.get('content-length') ?? 0);
  const limit = log.maxEventBytes + BODY_OVERHEAD_BYTES;
  if (declared > limit) throw tooLarge(log.maxEventBytes);
  if (request.text === undefined) throw badRequest('bad_parameter', 'This request has no body');
  const text = await request.text();
  if (text.length > limit * 3) throw tooLarge(log.maxEventBytes);

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('bad_parameter', 'The body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('bad_parameter', 'The body is an object: {"channel": "…", "data": …}');
  }
  for (const key of Object.keys(body)) {
    if (key !== 'channel' && key !== 'data') throw badRequest('unknown_parameter', `Unknown field \`${key.slice(0, 40)}\``);
  }
  const { channel, data } = body as { channel?: unknown; data?: unknown };
  // RFC draft "The Idempotency-Key HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header):
  // a retry with the same key is stored once and answered with the first one's position.
  const idempotencyKey = request.headers.get('idempotency-key') ?? undefined;
  if (idempotencyKey !== undefined && !isAppendId(idempotencyKey)) {
    throw badRequest('bad_parameter', '`Idempotency-Key` is 1 to 64 characters of A-Z a-z 0-9 _ -');
  }
  if (!isChannel(channel)) throw badRequest('bad_channel', 'Channel names are 1 to 128 characters of A-Z a-z 0-9 _ - . : @ /');
  if (data === undefined) throw badRequest('bad_parameter', 'The body needs `data`');
  // The body is an object around `data`: one level more.
  if (nestingExceeds(text, MAX_EVENT_DEPTH + 1)) {
    throw badRequest('bad_event', `Event data is nested deeper than ${MAX_EVENT_DEPTH} levels of arrays and objects`);
  }

  const denied = denial(await authorize(request, channel));
  if (denied !== undefined) return denied;
  // Checked again after the awaits above: an event is accepted only while the log is sure to be open.
  assertOpen();
  let position: string;
  try {
    position = await log.append(channel, data, idempotencyKey === undefined ? undefined : { id: idempotencyKey });
  } catch (error) {
    if (isAppendUncertainError(error)) {
      // Maybe stored, maybe not: the key to retry with makes the retry safe either way.
      throw new HangtimeError(
        'log_unavailable',
        503,
        'The event log did not confirm the event: it may or may not be stored. Retry with the Idempotency-Key given',
        {
          cause: error,
          retryAfterSeconds: 1,
          details: { idempotencyKey: error.appendId },
        },
      );
    }
    // The channel's schema refused the data (src/schema.ts): nothing was stored.
    if (isInvalidEventError(error)) {
      throw new HangtimeError('invalid_event', 400, error.message, { cause: error, details: { issues: issuesForAnswer(error.issues) } });
    }
    // The log's contract (src/log.ts): a RangeError for an event over maxEventBytes, a
    // TypeError for data it cannot serialise. Both are the request's fault: no retry helps.
    if (error instanceof RangeError) throw tooLarge(log.maxEventBytes);
    if (error instanceof TypeError)
      throw new HangtimeError('bad_event', 400, 'The log refused the event data as not serialisable', { cause: error });
    throw new HangtimeError('log_unavailable', 503, 'The event log did not accept the event', { cause: error, retryAfterSeconds: 1 });
  }
  return jsonResponse(201, `{"channel":"${channel}","position":"${position}"}`);
}

function tooLarge(maxEventBytes: number): HangtimeError {
  return new HangtimeError('payload_too_large', 413, `Events are at most ${maxEventBytes} bytes of JSON`);
}

/**
 * Whether valid JSON `text` nests arrays and objects deeper than `limit`. A scan of the text
 * rather than a walk of the parsed value: no recursion (the problem being bounded), and brackets
 * inside strings are skipped by tracking quotes and backslash escapes.
 */
function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return false;
}
