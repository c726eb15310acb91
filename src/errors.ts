/** Stable error codes of the wire protocol (docs/protocol.md, "Errors"). */
export type ErrorCode =
  | 'bad_request'
  | 'missing_channels'
  | 'bad_channel'
  | 'too_many_channels'
  | 'bad_cursor'
  | 'bad_parameter'
  | 'unknown_parameter'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'bad_event'
  | 'invalid_event'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_waiters'
  | 'log_unavailable'
  | 'shutting_down'
  | 'internal';

/**
 * An error the protocol answers with a status and a JSON body `{"error":{"code","message"}}`.
 *
 * @example
 * throw new HangtimeError('bad_channel', 400, 'Channel names are 1 to 128 characters');
 */
export class HangtimeError extends Error {
  override readonly name = 'HangtimeError';

  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number; details?: Readonly<Record<string, unknown>> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.details = options?.details;
  }

  /** Seconds a client should wait before retrying (sent as `Retry-After`), when set. */
  readonly retryAfterSeconds: number | undefined;
  /** Fields the answer's JSON body carries beside `error` (docs/protocol.md names each). */
  readonly details: Readonly<Record<string, unknown>> | undefined;
}

/** Type guard for {@link HangtimeError}, safe across bundled copies of the library. */
export function isHangtimeError(value: unknown): value is HangtimeError {
  return value instanceof Error && value.name === 'HangtimeError' && typeof (value as HangtimeError).code === 'string';
}

export const badRequest = (code: ErrorCode, message: string): HangtimeError => new HangtimeError(code, 400, message);

/**
 * An append whose outcome the log cannot promise: the store did not answer (the event may or may
 * not be stored), or it stored the event without the confirmation the log waits for (a replica,
 * for the Redis log: a failover may still lose it), or the store lost its history while the
 * append was in flight (nothing is stored then, but readers may have seen the event before the
 * loss). Retrying with the same append id stores the event at most once in the history the log
 * has now: within one history that is exactly once; across a loss of history it is the caller's
 * choice between at-least-once (retry) and at-most-once (do not). The HTTP publish route answers
 * it with 503 and the id to retry with (docs/protocol.md, "Publishing").
 *
 * @example
 * try {
 *   await log.append('chat', message);
 * } catch (error) {
 *   if (!isAppendUncertainError(error)) throw error;
 *   await log.append('chat', message, { id: error.appendId }); // stored once, whatever happened
 * }
 */
export class AppendUncertainError extends Error {
  override readonly name = 'AppendUncertainError';
  /** The channel appended to. */
  readonly channel: string;
  /** The append's id: pass it as `{ id }` to a retry. */
  readonly appendId: string;
  /** Where the store put the event, when it said so (`undefined` when it did not answer). Not a
   * promise: a failover can lose it. */
  readonly position: string | undefined;

  constructor(message: string, details: { channel: string; appendId: string; position?: string | undefined; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.channel = details.channel;
    this.appendId = details.appendId;
    this.position = details.position;
  }
}

/** Type guard for {@link AppendUncertainError}, safe across bundled copies of the library. */
export function isAppendUncertainError(value: unknown): value is AppendUncertainError {
  return value instanceof Error && value.name === 'AppendUncertainError' && typeof (value as AppendUncertainError).appendId === 'string';
}
