/**
 * An append whose outcome the log cannot promise: Redis did not answer (the event may or may
 * not be stored), or the channel's master stored it but no replica confirmed it in time (a
 * failover may still lose it). Retrying with the same append id is safe: an append id is
 * stored at most once within the idempotency window (see docs/redis.md, "Durability").
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
  /** Where the channel's master stored the event, when it said so (`undefined` when Redis did
   * not answer). Not a promise: a failover can lose it. */
  readonly position: string | undefined;

  constructor(
    message: string,
    details: { channel: string; appendId: string; position?: string | undefined; cause?: unknown },
  ) {
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
