import type { Hangtime } from '../../src/hangtime.js';
import type { WebHandler } from '../../src/http.js';
import { invoke, remainingMs } from '../lambda/invoke.js';
import { fitResult, formatResult } from '../lambda/result.js';
import { prepareAdapter, requestContext, resolveLimits, resolveTimeLimit, type Limits } from '../limits.js';
import { PROFILES, type ProfileName } from '../profiles.js';
import { recogniseEvent, type RecognisedEvent } from './events.js';
import type { AwsLambdaHandler, AwsLambdaOptions, FrontDoor } from './types.js';
import { declareOneRequestPerInstance } from '../../src/instance.js';

const FRONT_DOORS: Readonly<Record<FrontDoor, ProfileName>> = {
  rest: 'api-gateway-rest',
  'http-api': 'api-gateway-http',
  'function-url': 'lambda-function-url',
  alb: 'alb',
};

interface DoorSettings {
  readonly limits: Limits;
  readonly timeLimitMs: number | undefined;
}

/**
 * Serve a hangtime endpoint (or any Web handler) from AWS Lambda behind API Gateway (REST or HTTP
 * API), a Function URL or an Application Load Balancer. Each poll answers before the sooner of
 * the function's timeout and the front door's, and fits the front door's payload cap.
 *
 * Create it once, outside the handler: warm invocations reuse it and the log's connections.
 *
 * @example
 * import { createHangtime } from 'hangtime';
 * import { awsLambda } from 'hangtime/aws-lambda';
 * import { redisLog } from 'hangtime/redis';
 *
 * const hangtime = createHangtime({ log: redisLog({ url: process.env.REDIS_URL }) });
 * export const handler = awsLambda(hangtime);
 */
export function awsLambda(target: Hangtime | WebHandler, options: AwsLambdaOptions = {}): AwsLambdaHandler {
  const frontDoor = (options as AwsLambdaOptions | null)?.frontDoor;
  if (frontDoor !== undefined && !Object.hasOwn(FRONT_DOORS, frontDoor)) {
    throw new TypeError(`Expected \`frontDoor\` to be one of ${Object.keys(FRONT_DOORS).join(', ')}, got ${JSON.stringify(frontDoor)}`);
  }
  // ALB's answers are the smallest: an event size that fits them fits every front door.
  const checked = PROFILES[FRONT_DOORS[frontDoor ?? 'alb']];
  const { resolved } = prepareAdapter(target, options, checked, ['frontDoor', 'frontDoorTimeoutMs'], 'awsLambda()');
  // One request per execution environment: a Redis log waits on one connection (see src/instance.ts).
  declareOneRequestPerInstance();
  const doors = new Map<FrontDoor, DoorSettings>();
  for (const door of Object.keys(FRONT_DOORS) as FrontDoor[]) {
    const profile = PROFILES[FRONT_DOORS[door]];
    // In auto mode a timeout meant for one front door is clamped to what the others allow
    // (HTTP APIs: 30 s); for the declared front door, too high a value is refused.
    const timeLimitMs = resolveTimeLimit(
      profile,
      options.frontDoorTimeoutMs,
      'frontDoorTimeoutMs',
      frontDoor === door ? 'refuse' : 'clamp',
    );
    doors.set(door, { limits: resolveLimits(profile, options), timeLimitMs });
  }

  return async (event, context) => {
    const arrivedAt = Date.now();
    const recognised = recogniseEvent(event);
    const door = frontDoor ?? recognised.frontDoor;
    if (!sameShape(door, recognised)) {
      throw new TypeError(`awsLambda() was set up for frontDoor "${door}" but received an event from "${recognised.frontDoor}"`);
    }
    const { limits, timeLimitMs } = doors.get(door)!;
    const deadline = invocationDeadline(arrivedAt, remainingMs(context), recognised.receivedAt, timeLimitMs);
    const answer = await invoke(resolved, recognised.parts, requestContext(limits, arrivedAt, deadline), limits.onError);
    return fitResult(formatResult(answer, recognised.format, limits.onError), recognised.format, limits.maxResponseBytes, limits.onError);
  };
}

/**
 * When the answer must be out: the function's own timeout, or the front door's, counted from
 * when the front door received the request (a cold start spends the front door's time before
 * the handler runs), whichever comes first.
 */
function invocationDeadline(
  now: number,
  remaining: number | undefined,
  receivedAt: number | undefined,
  timeLimitMs: number | undefined,
): number | undefined {
  const own = remaining === undefined ? Infinity : now + remaining;
  // A clock ahead of ours must not lengthen the front door's limit.
  const door = timeLimitMs === undefined ? Infinity : Math.min(receivedAt ?? now, now) + timeLimitMs;
  const deadline = Math.min(own, door);
  return deadline === Infinity ? undefined : deadline;
}

/** A declared front door wins over what the event suggests, as long as the shapes agree: HTTP
 * APIs send either payload format, and only the domain tells Function URLs from HTTP APIs. */
function sameShape(door: FrontDoor, event: RecognisedEvent): boolean {
  if (door === event.frontDoor) return true;
  if (event.format === 'v1') return door === 'rest' || door === 'http-api';
  return event.format === 'v2' && (door === 'http-api' || door === 'function-url');
}
