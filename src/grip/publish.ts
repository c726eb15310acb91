import { encodeCursor } from '../cursor.js';
import type { AppendOptions, EventLog, LinkedAppend } from '../log.js';
import { withAppends } from '../log-wrap.js';
import { answerChannel, hintChannel } from './channels.js';

/** One GRIP item as the publish endpoint takes it (`POST /publish/`, `{"items": [...]}`). */
export interface GripItem {
  readonly channel: string;
  readonly id?: string;
  readonly 'prev-id'?: string;
  readonly formats: {
    readonly 'http-response': { readonly action: 'hint' } | { readonly headers: Record<string, string>; readonly body: string };
  };
}

/** Sends items to the proxy in one request; rejects when the proxy did not take them. */
export type SendItems = (items: readonly GripItem[]) => Promise<void>;

/**
 * Published answers larger than this are sent as hints instead (the proxy then asks the origin):
 * Pushpin takes publish bodies up to `push_in_http_max_body_size`, 1,000,000 bytes by default.
 */
const MAX_PUBLISHED_ANSWER_BYTES = 500_000;

/**
 * The items of one append: on the channel's answer channel, the answer a poll held at the event
 * before gets (or a hint when that event is unknown); on its hint channel, a hint. Both carry
 * `id` = the new position and `prev-id` = the one before, so the proxy delivers only to holds at
 * `prev-id`, and asks the origin again for the others.
 */
export function itemsOfAppend(channel: string, json: string, { position, previous }: LinkedAppend): GripItem[] {
  const link = previous === null ? { id: position } : { id: position, 'prev-id': previous };
  const hint = { 'http-response': { action: 'hint' } } as const;
  // The body the origin would answer to a poll of `channel` alone at `previous` (hangtime.ts,
  // bodyOf): this event, the cursor after it, nothing more.
  const body = `{"events":[{"channel":"${channel}","position":"${position}","data":${json}}],"cursor":"${encodeCursor(new Map([[channel, position]]))}","more":false}`;
  const answer =
    previous === null || body.length > MAX_PUBLISHED_ANSWER_BYTES
      ? hint
      : {
          'http-response': {
            headers: {
              'content-type': 'application/json; charset=utf-8',
              'cache-control': 'no-store',
              'server-timing': 'hold;desc="events"',
            },
            body,
          },
        };
  return [
    { channel: answerChannel(channel), ...link, formats: answer },
    { channel: hintChannel(channel), ...link, formats: hint },
  ];
}

/**
 * The log, publishing every append to the proxy once, where it is made (so appends from any
 * process that shares a Redis log reach the proxy once, not once per process watching). The
 * append resolves once the log stored the event and the publish is done or failed: a publish
 * that fails or times out is reported to `onError` and never fails the append (the log is the
 * source of truth; held clients get the event at their hold timeout at the latest).
 */
export function publishingLog(log: EventLog, send: SendItems, onError: (error: unknown) => void): EventLog {
  const appendLinked = async (channel: string, data: unknown, options?: AppendOptions): Promise<LinkedAppend> => {
    const linked =
      log.appendLinked === undefined
        ? { position: await log.append(channel, data, options), previous: null }
        : await log.appendLinked(channel, data, options);
    // The log stored exactly this text (serializeEventData): the same JSON as its answers.
    const json = JSON.stringify(data);
    try {
      await send(itemsOfAppend(channel, json, linked));
    } catch (error) {
      onError(error);
    }
    return linked;
  };
  const append = async (channel: string, data: unknown, options?: AppendOptions): Promise<string> =>
    (await appendLinked(channel, data, options)).position;
  return withAppends(log, { append, appendLinked });
}
