import { isChannel } from './channels.js';
import { badRequest, HangtimeError } from './errors.js';
import { jsonResponse, type HangtimeRequest, type PlainResponse } from './http.js';
import type { EventLog } from './log.js';
import type { AuthDecision } from './hangtime.js';

/** Room for `{"channel":"…","data":…}` around the largest accepted event. */
const BODY_OVERHEAD_BYTES = 1024;

interface PublishDeps {
  readonly log: EventLog;
  readonly authorize: (request: HangtimeRequest, channel: string) => AuthDecision | Promise<AuthDecision>;
  readonly denial: (decision: AuthDecision) => PlainResponse | undefined;
}

/** `POST {"channel","data"}`: the optional publish route (docs/protocol.md, "Publishing"). */
export async function publish(request: HangtimeRequest, { log, authorize, denial }: PublishDeps): Promise<PlainResponse> {
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
  if (!isChannel(channel)) throw badRequest('bad_channel', 'Channel names are 1 to 128 characters of A-Z a-z 0-9 _ - . : @ /');
  if (data === undefined) throw badRequest('bad_parameter', 'The body needs `data`');

  const denied = denial(await authorize(request, channel));
  if (denied !== undefined) return denied;
  let position: string;
  try {
    position = await log.append(channel, data);
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(log.maxEventBytes);
    throw new HangtimeError('log_unavailable', 503, 'The event log did not accept the event', { cause: error, retryAfterSeconds: 1 });
  }
  return jsonResponse(201, `{"channel":"${channel}","position":"${position}"}`);
}

function tooLarge(maxEventBytes: number): HangtimeError {
  return new HangtimeError('payload_too_large', 413, `Events are at most ${maxEventBytes} bytes of JSON`);
}
