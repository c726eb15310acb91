export { createHangtime, assertResponseCap } from './hangtime.js';
export type { AuthDecision, Hangtime, HangtimeEvent, HangtimeOptions, Replier, Timers, WaitOptions, WaitResult } from './hangtime.js';
export { memoryLog } from './memory-log.js';
export type { MemoryLog, MemoryLogOptions } from './memory-log.js';
export { DEFAULT_MAX_EVENT_BYTES, serializeEventData, utf8Length } from './log.js';
export type {
  AppendOptions,
  EventLog,
  GapReason,
  LinkedAppend,
  ReadOptions,
  ReadResult,
  StartFrom,
  StoredEvent,
  WaitSink,
  WaitTarget,
} from './log.js';
export { AppendUncertainError, HangtimeError, isAppendUncertainError, isHangtimeError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { InvalidEventError, defineChannels, isInvalidEventError } from './schema.js';
export type {
  AppendData,
  ChannelData,
  ChannelLog,
  ChannelOf,
  ChannelSchemas,
  EventIssue,
  EventOf,
  SchemaInput,
  SchemaOutput,
  StandardSchemaV1,
} from './schema.js';
export { holdBudget } from './budget.js';
export type { Budget, WakeReason } from './budget.js';
export type { Gap } from './hold.js';
export type { CorsOptions } from './cors.js';
export { CHANNEL_PATTERN, isChannel } from './channels.js';
export { toResponse, responseForError } from './http.js';
export type { HandlerContext, HangtimeRequest, PlainResponse, WebHandler } from './http.js';
