// The event type on its own, so that channels.ts (the declaration types) and types.ts (the
// client's types, which use them) do not import each other.

/** One event as the server delivers it (docs/protocol.md, "200: events"). */
export interface HangtimeEvent<T = unknown> {
  readonly channel: string;
  /** Opaque; unique within the channel. */
  readonly position: string;
  readonly data: T;
}
