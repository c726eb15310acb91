/**
 * Why a poll failed: the client's own codes, then the protocol's `error.code`s
 * (docs/protocol.md, "Errors"). An error answer from something in front of the endpoint (your
 * own auth middleware answering `{"error":{"code":"session_expired"}}`) keeps its code: hence
 * the open end, which keeps the known codes autocompleted.
 */
export type HangtimeClientErrorCode =
  /** No answer: `cause` is what `fetch` threw. */
  | 'network'
  /** An answer that is not the protocol's: a gateway's 502 page, a proxy's 200 page. */
  | 'http'
  /** `onEvents` or `onGap` threw: `cause` is what it threw. */
  | 'handler'
  /** A gap, reported this way to an app without `onGap`: `cause` holds the gaps. */
  | 'cursor_expired'
  | 'missing_channels'
  | 'bad_channel'
  | 'too_many_channels'
  | 'bad_cursor'
  | 'bad_parameter'
  | 'unknown_parameter'
  | 'unauthorized'
  | 'forbidden'
  | 'method_not_allowed'
  | 'too_many_waiters'
  | 'log_unavailable'
  | 'internal'
  | (string & {});

/** The second argument of `new HangtimeClientError(message, options)`, as `Error` takes `{ cause }`. */
export interface HangtimeClientErrorOptions {
  readonly code: HangtimeClientErrorCode;
  /** The HTTP status; `0` (the default) when there was no answer. */
  readonly status?: number;
  readonly willRetry: boolean;
  readonly cause?: unknown;
}

/**
 * Why a poll failed (see {@link HangtimeClientErrorCode}), whether the loop retries, and the
 * HTTP status.
 *
 * @example
 * subscribe('/api/poll', {
 *   channels: ['chat'],
 *   onEvents: render,
 *   onError: (error) => {
 *     if (error.code === 'unauthorized') login();
 *     else if (!error.willRetry) showBanner(`Live updates stopped: ${error.code}`);
 *   },
 * });
 *
 * // In a test of your own error handling:
 * onError(new HangtimeClientError('offline', { code: 'network', willRetry: true }));
 */
export class HangtimeClientError extends Error {
  override readonly name = 'HangtimeClientError';
  declare readonly code: HangtimeClientErrorCode;
  /** The HTTP status, or `0` when there was no answer. */
  declare readonly status: number;
  /** Whether the loop tries again (after a backoff); `false` means it has stopped. */
  declare willRetry: boolean;

  constructor(message: string, options: HangtimeClientErrorOptions) {
    // `options` carries `cause` (when given) for `Error`, and the fields for this.
    super(message, options);
    Object.assign(this, { status: 0 }, options);
  }
}

/**
 * Type guard for {@link HangtimeClientError}, by `name`: safe across bundled copies of the client.
 *
 * @example
 * try { for await (const batch of poll(url, options)) handle(batch); }
 * catch (error) { if (isHangtimeClientError(error) && error.status === 401) login(); }
 */
export const isHangtimeClientError = (value: unknown): value is HangtimeClientError =>
  (value as Error | undefined)?.name == 'HangtimeClientError';
