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
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** Seconds a client should wait before retrying (sent as `Retry-After`), when set. */
  readonly retryAfterSeconds: number | undefined;
}

/** Type guard for {@link HangtimeError}, safe across bundled copies of the library. */
export function isHangtimeError(value: unknown): value is HangtimeError {
  return value instanceof Error && value.name === 'HangtimeError' && typeof (value as HangtimeError).code === 'string';
}

export const badRequest = (code: ErrorCode, message: string): HangtimeError => new HangtimeError(code, 400, message);
