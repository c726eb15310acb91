/**
 * Why a poll failed. `code` is the protocol's `error.code` for an error answer
 * (`bad_cursor`, `forbidden`, `too_many_waiters`, …, see docs/protocol.md), or one of the
 * client's own: `network` (no answer; `cause` is what `fetch` threw), `http` (an answer that
 * is not the protocol's: a gateway's 502 page, a proxy's 200 page), `handler` (`onEvents` or
 * `onGap` threw; `cause` is what it threw), `cursor_expired` (a gap, reported this way to an
 * app without `onGap`; `cause` holds the gaps). *
 * @example
 * subscribe('/api/poll', {
 *   channels: ['chat'],
 *   onEvents: render,
 *   onError: (error) => {
 *     if (!error.willRetry) showBanner(`Live updates stopped: ${error.code}`);
 *   },
 * });
 */
export class HangtimeClientError extends Error {
  override readonly name = 'HangtimeClientError';
  /** Whether the loop tries again (after a backoff); `false` means it has stopped. */
  willRetry: boolean;

  constructor(
    readonly code: string,
    /** The HTTP status, or `0` when there was no answer. */
    readonly status: number,
    message: string,
    retryable: boolean,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.willRetry = retryable;
  }
}

/**
 * Type guard for {@link HangtimeClientError}, by `name`: safe across bundled copies of the client.
 *
 * @example
 * try { for await (const batch of poll(url, options)) handle(batch); }
 * catch (error) { if (isHangtimeClientError(error) && error.status === 401) login(); }
 */
export function isHangtimeClientError(value: unknown): value is HangtimeClientError {
  return (value as Error | undefined)?.name == 'HangtimeClientError';
}
