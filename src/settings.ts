import { DEFAULT_MAX_CHANNELS } from './channels.js';
import { resolveCors, type ResolvedCors } from './cors.js';
import { GLOBAL_HOLD_TIMERS, HoldTimers, type Timers } from './hold-timers.js';
import type { EventLog } from './log.js';
import { memoryLog } from './memory-log.js';
import {
  assertNonNegativeNumber,
  assertOptionalFunction,
  assertOptions,
  assertPositiveInteger,
  assertPositiveNumber,
  show,
} from './options.js';
import { assertResponseCap } from './answer.js';
import type { GripDelegate } from './grip/types.js';
import { schemaLog } from './schema.js';
import type { HangtimeOptions } from './types.js';

const OPTION_NAMES = [
  'log',
  'maxWaitMs',
  'safetyMarginMs',
  'minHoldMs',
  'maxChannels',
  'maxEvents',
  'maxResponseBytes',
  'maxWaiters',
  'logTimeoutMs',
  'authorize',
  'authorizePublish',
  'cors',
  'onError',
  'random',
  'now',
  'timers',
  'grip',
  'channels',
] as const;

/** {@link HangtimeOptions} checked, with their defaults: what every part of the core reads. */
export interface Settings {
  readonly log: EventLog;
  /** What `hangtime.log` and `POST` append through: `log`, validated by channel (src/schema.ts). */
  readonly publicLog: EventLog;
  /** The GRIP proxy polls are delegated to, if any (src/grip/). */
  readonly grip: GripDelegate | undefined;
  /** The log was created here (no `log` option): `close()` closes it. */
  readonly ownsLog: boolean;
  readonly maxWaitMs: number;
  readonly safetyMarginMs: number;
  readonly minHoldMs: number;
  readonly maxChannels: number;
  readonly maxEvents: number;
  readonly maxResponseBytes: number;
  readonly maxWaiters: number;
  readonly logTimeoutMs: number;
  readonly authorize: HangtimeOptions['authorize'];
  readonly authorizePublish: HangtimeOptions['authorizePublish'];
  readonly cors: ResolvedCors | undefined;
  readonly now: () => number;
  /** `now()` when the instance was made: the holds keep their times from it (see HoldShared). */
  readonly clockBase: number;
  readonly random: () => number;
  /** `onError`, which may not throw its way out. */
  readonly report: (error: unknown) => void;
  /** The hold timers: the process's, or the instance's own on its `timers`. */
  readonly holdTimers: HoldTimers;
}

/** Check `createHangtime`'s options with precise `TypeError`s and apply the defaults. */
export function resolveSettings(options: HangtimeOptions): Settings {
  assertOptions(options, OPTION_NAMES, 'createHangtime()');
  const { grip } = options;
  if (grip !== undefined && (typeof grip !== 'object' || grip === null || typeof grip.respondInto !== 'function')) {
    throw new TypeError(`Expected \`grip\` to be a GRIP proxy (gripProxy() of hangtime/grip), got ${show(grip)}`);
  }
  const ownLog = options.log ?? memoryLog();
  if (typeof ownLog.waitFor !== 'function' || typeof ownLog.read !== 'function') {
    throw new TypeError('Expected `log` to be an event log (memoryLog(), redisLog(), …)');
  }
  // With a GRIP proxy, every append through hangtime (`hangtime.log`, POST) publishes to it.
  const log = grip === undefined ? ownLog : grip.publishing(ownLog);
  const maxWaitMs = assertPositiveNumber(options.maxWaitMs ?? 25_000, 'maxWaitMs');
  const safetyMarginMs = assertNonNegativeNumber(options.safetyMarginMs ?? 1_000, 'safetyMarginMs');
  const minHoldMs = assertNonNegativeNumber(options.minHoldMs ?? 250, 'minHoldMs');
  const maxChannels = assertPositiveInteger(options.maxChannels ?? DEFAULT_MAX_CHANNELS, 'maxChannels');
  const maxEvents = assertPositiveInteger(options.maxEvents ?? 100, 'maxEvents');
  const maxResponseBytes = assertPositiveInteger(options.maxResponseBytes ?? 1_000_000, 'maxResponseBytes');
  const maxWaiters = assertPositiveInteger(options.maxWaiters ?? 10_000, 'maxWaiters');
  const logTimeoutMs = assertPositiveNumber(options.logTimeoutMs ?? 5_000, 'logTimeoutMs');
  for (const name of ['authorize', 'authorizePublish', 'onError', 'random', 'now'] as const) {
    assertOptionalFunction(options[name], name);
  }
  assertResponseCap(maxResponseBytes, log.maxEventBytes, 'maxResponseBytes');
  const now = options.now ?? Date.now;
  return {
    log,
    publicLog: schemaLog(log, options.channels),
    grip,
    ownsLog: options.log === undefined,
    maxWaitMs,
    safetyMarginMs,
    minHoldMs,
    maxChannels,
    maxEvents,
    maxResponseBytes,
    maxWaiters,
    logTimeoutMs,
    authorize: options.authorize,
    authorizePublish: options.authorizePublish,
    cors: resolveCors(options.cors),
    now,
    clockBase: now(),
    random: options.random ?? Math.random,
    report: reporter(options.onError),
    holdTimers: options.timers === undefined ? GLOBAL_HOLD_TIMERS : new HoldTimers(assertTimers(options.timers), now),
  };
}

function reporter(onError: ((error: unknown) => void) | undefined): (error: unknown) => void {
  if (onError === undefined) return () => {};
  return (error) => {
    try {
      onError(error);
    } catch {
      // An onError that throws must not turn an answer into a crash.
    }
  };
}

function assertTimers(timers: Timers): Timers {
  if (
    typeof timers !== 'object' ||
    timers === null ||
    typeof timers.setTimeout !== 'function' ||
    typeof timers.clearTimeout !== 'function'
  ) {
    throw new TypeError(`Expected \`timers\` to be an object with setTimeout and clearTimeout, got ${show(timers)}`);
  }
  return timers;
}
