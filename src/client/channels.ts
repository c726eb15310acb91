// Types only: how a server's channel declaration (`{ 'chat:*': ChatMessage, … }`, Standard
// Schema validators by channel name or pattern) types the events a client receives. Nothing
// here reaches the bundle; it imports nothing (the client's rule), so a schema is known by the
// shape every Standard Schema validator has (https://standardschema.dev), not by an import.
import type { HangtimeEvent } from './event.js';

/** The part of a Standard Schema validator the types read: its `output` type. */
export interface SchemaLike {
  readonly '~standard': { readonly types?: { readonly output: unknown } | undefined };
}

/** A channel declaration: Standard Schema validators by channel name or `prefix*` pattern. */
export type ChannelSchemaMap = { readonly [pattern: string]: SchemaLike };

/** The channel names a pattern stands for: `'chat:*'` is `` `chat:${string}` ``, a name itself. */
export type ChannelPattern<P extends string> = P extends `${infer Prefix}*` ? `${Prefix}${string}` : P;

/** What a schema validates to (its output: after transforms and defaults). */
export type SchemaOutput<S> = S extends { readonly '~standard': { readonly types?: infer Types } }
  ? NonNullable<Types> extends { readonly output: infer Output }
    ? Output
    : unknown
  : unknown;

/**
 * Whether `T` (a client's type parameter) is a channel declaration, rather than the type of the
 * events' data: an object type whose every property is a Standard Schema validator.
 * (In brackets, so that a union of data types is not taken apart.)
 */
type IsDeclaration<T> = [T] extends [ChannelSchemaMap] ? ([keyof T] extends [never] ? false : true) : false;

/** The channel names a client may follow: those of the declaration, or any string. */
export type ChannelOf<T> = IsDeclaration<T> extends true ? { [P in keyof T & string]: ChannelPattern<P> }[keyof T & string] : string;

/**
 * One event as the client delivers it: with a declaration, a union by channel (compare
 * `event.channel` to narrow `event.data`); otherwise a {@link HangtimeEvent} of `T`.
 *
 * @example
 * // server.ts
 * export const channels = { 'chat:*': ChatMessage, presence: Presence };
 * export type AppChannels = typeof channels;
 * // page.ts
 * subscribe<AppChannels>('/api/poll', { channels: ['chat:lobby'], onEvents: (events) => … });
 */
export type EventOf<T> =
  IsDeclaration<T> extends true
    ? { [P in keyof T & string]: HangtimeEvent<SchemaOutput<T[P]>> & { readonly channel: ChannelPattern<P> } }[keyof T & string]
    : HangtimeEvent<T>;
