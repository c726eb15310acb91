/**
 * Typed channels: Standard Schema validators (https://standardschema.dev: zod, valibot, arktype
 * and others implement it) declared per channel name or `prefix*` pattern. Every append through
 * `hangtime.log` (backend code) and every HTTP publish is validated, and what is stored is the
 * validator's output; a client types the events it receives from the same declaration with a
 * type-only import (see `src/client/channels.ts`). Only the spec's types are used: no schema
 * library is a dependency.
 */
import type { ChannelPattern, SchemaOutput } from './client/channels.js';
import type { AppendOptions, EventLog, LinkedAppend } from './log.js';
import { withAppends } from './log-wrap.js';
import { show } from './options.js';

export type { ChannelOf, EventOf, SchemaOutput } from './client/channels.js';

/**
 * The Standard Schema V1 interface, as `@standard-schema/spec` 1.x declares it (the part a
 * consumer of validators uses). Restated rather than imported, as the spec invites, so that the
 * published declarations need no package of it: `test/channels/types.test.ts` checks that it is
 * the spec's (each way assignable).
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

// A namespace of types only, as the spec's own: `StandardSchemaV1.Issue` reads as there.
export declare namespace StandardSchemaV1 {
  interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown, options?: Options | undefined) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  interface Options {
    readonly libraryOptions?: Record<string, unknown> | undefined;
  }
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  interface PathSegment {
    readonly key: PropertyKey;
  }
  interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
}

/**
 * Validators by channel: an exact channel name (`presence`), or a prefix followed by `*`
 * (`chat:*`: every channel whose name starts with `chat:`; `*` alone: every channel). A channel
 * matching several is validated by its exact name if declared, otherwise by the longest
 * matching prefix. Channels matching none are not validated.
 */
export type ChannelSchemas = { readonly [pattern: string]: StandardSchemaV1 };

/** The data type a declaration gives a channel name (or pattern): what a reader receives. */
export type ChannelData<C extends ChannelSchemas, Name extends string> = {
  [P in keyof C & string]: Name extends ChannelPattern<P> ? SchemaOutput<C[P]> : never;
}[keyof C & string];

/** What a schema accepts (its input: before transforms and defaults). */
export type SchemaInput<S> = S extends { readonly '~standard': { readonly types?: infer Types } }
  ? NonNullable<Types> extends { readonly input: infer Input }
    ? Input
    : unknown
  : unknown;

/** What `append` takes for a channel: its schema's input, any value for an undeclared channel. */
export type AppendData<C extends ChannelSchemas, Name extends string> = [
  { [P in keyof C & string]: Name extends ChannelPattern<P> ? SchemaInput<C[P]> : never }[keyof C & string],
] extends [never]
  ? unknown
  : { [P in keyof C & string]: Name extends ChannelPattern<P> ? SchemaInput<C[P]> : never }[keyof C & string];

/**
 * `hangtime.log` with a declaration: `append` takes each channel's schema input (and validates
 * it at run time); without one (`C` the default), the {@link EventLog} as it is.
 */
export type ChannelLog<C extends ChannelSchemas> = string extends keyof C
  ? EventLog
  : Omit<EventLog, 'append'> & {
      append<Name extends string>(channel: Name, data: AppendData<C, Name>, options?: AppendOptions): Promise<string>;
    };

/** One problem a validator found, as the HTTP answer carries it (`path`: keys from the root). */
export interface EventIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
}

/**
 * The data of an append or a publish failed its channel's schema. Thrown (rejected) by
 * `hangtime.log.append`; the HTTP publish route answers it with 400 `invalid_event` and the
 * issues. Nothing was stored.
 *
 * @example
 * try {
 *   await hangtime.log.append('chat:lobby', { text: 42 });
 * } catch (error) {
 *   if (isInvalidEventError(error)) console.warn(error.channel, error.issues);
 * }
 */
export class InvalidEventError extends TypeError {
  override readonly name = 'InvalidEventError';
  readonly code = 'invalid_event';
  /** The channel appended to. */
  readonly channel: string;
  /** What the validator reported, exactly as it reported it. */
  readonly issues: ReadonlyArray<StandardSchemaV1.Issue>;

  constructor(channel: string, issues: ReadonlyArray<StandardSchemaV1.Issue>) {
    const first = issues[0];
    const where = first?.path?.length ? ` at ${toPath(first.path).join('.')}` : '';
    super(
      `Invalid event for channel "${channel}": ${first?.message ?? 'rejected by its schema'}${where}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
    );
    this.channel = channel;
    this.issues = issues;
  }
}

/** Type guard for {@link InvalidEventError}, safe across bundled copies of the library. */
export function isInvalidEventError(value: unknown): value is InvalidEventError {
  return value instanceof Error && value.name === 'InvalidEventError' && Array.isArray((value as InvalidEventError).issues);
}

/** At most this many issues go into an HTTP answer, each message cut to {@link MAX_ISSUE_MESSAGE}. */
const MAX_ISSUES = 20;
const MAX_ISSUE_MESSAGE = 300;

/** The issues as JSON for the HTTP answer: bounded, paths as plain keys. */
export function issuesForAnswer(issues: ReadonlyArray<StandardSchemaV1.Issue>): EventIssue[] {
  return issues.slice(0, MAX_ISSUES).map((issue) => {
    const message = String(issue.message).slice(0, MAX_ISSUE_MESSAGE);
    return issue.path?.length ? { message, path: toPath(issue.path) } : { message };
  });
}

function toPath(path: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment>): Array<string | number> {
  return path.map((segment) => {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    return typeof key === 'number' ? key : String(key);
  });
}

/** The channel names and patterns a declaration may use: `*` only at the end. */
const PATTERN = /^(?:[\w.:@/-]{1,128}|[\w.:@/-]{0,127}\*)$/;

/**
 * Check a declaration: patterns well-formed, each value a Standard Schema validator. Throws a
 * precise `TypeError` otherwise.
 *
 * @example
 * const channels = defineChannels({ 'chat:*': ChatMessage, presence: Presence });
 * const hangtime = createHangtime({ channels });
 * export type AppChannels = typeof channels;
 */
export function defineChannels<const C extends ChannelSchemas>(channels: C): C {
  if (typeof channels !== 'object' || channels === null || Array.isArray(channels)) {
    throw new TypeError(
      `Expected \`channels\` to be an object of Standard Schema validators by channel name or pattern, got ${show(channels)}`,
    );
  }
  for (const [pattern, schema] of Object.entries(channels)) {
    if (!PATTERN.test(pattern)) {
      throw new TypeError(
        `Expected the channel pattern ${JSON.stringify(pattern)} to be a channel name, or a prefix of one followed by \`*\``,
      );
    }
    const standard = (schema as Partial<StandardSchemaV1> | null | undefined)?.['~standard'];
    if (typeof standard?.validate !== 'function' || standard.version !== 1) {
      throw new TypeError(
        `Expected \`channels[${JSON.stringify(pattern)}]\` to be a Standard Schema validator (zod, valibot, arktype, …), got ${show(schema)}`,
      );
    }
  }
  return channels;
}

/** The validator of a channel, found by exact name, then by the longest matching prefix. */
export function schemaFinder(channels: ChannelSchemas): (channel: string) => StandardSchemaV1 | undefined {
  const exact = new Map<string, StandardSchemaV1>();
  const prefixes: Array<[string, StandardSchemaV1]> = [];
  for (const [pattern, schema] of Object.entries(channels)) {
    if (pattern.endsWith('*')) prefixes.push([pattern.slice(0, -1), schema]);
    else exact.set(pattern, schema);
  }
  prefixes.sort(([a], [b]) => b.length - a.length);
  return (channel) => exact.get(channel) ?? prefixes.find(([prefix]) => channel.startsWith(prefix))?.[1];
}

/**
 * The log as `hangtime.log` and the publish route use it: `append` validates against the
 * channel's schema (when it has one) and appends the validator's output; everything else is
 * the log's own. Without a declaration, the log itself.
 */
export function schemaLog(log: EventLog, channels: ChannelSchemas | undefined): EventLog {
  if (channels === undefined) return log;
  const schemaOf = schemaFinder(defineChannels(channels));
  /** The data to store: the validator's output, or the data itself on a channel without one. */
  const validated = async (channel: string, data: unknown): Promise<unknown> => {
    const schema = schemaOf(channel);
    if (schema === undefined) return data;
    const result = await schema['~standard'].validate(data);
    if (result.issues) throw new InvalidEventError(channel, result.issues);
    return result.value;
  };
  const append = async (channel: string, data: unknown, options?: AppendOptions): Promise<string> =>
    log.append(channel, await validated(channel, data), options);
  // `appendLinked` (optional, see src/log.ts) validates too: no way around the declaration.
  const appendLinked =
    log.appendLinked &&
    (async (channel: string, data: unknown, options?: AppendOptions): Promise<LinkedAppend> =>
      log.appendLinked!(channel, await validated(channel, data), options));
  return withAppends(log, { append, appendLinked });
}
