/**
 * The Lambda HTTP events and results this adapter reads and writes, typed structurally so that
 * hangtime's declarations do not depend on `@types/aws-lambda` (whose `APIGatewayProxyEvent`,
 * `APIGatewayProxyEventV2`, `LambdaFunctionURLEvent` and `ALBEvent` are all assignable here).
 */

import type { LambdaHttpResult, StringListMap, StringMap, V1RequestFields } from '../lambda/types.js';
import type { LimitOptions } from '../limits.js';

export type { LambdaHttpResult } from '../lambda/types.js';

/** Payload format 1.0: API Gateway REST APIs (and HTTP APIs configured for format 1.0). */
export interface ApiGatewayV1Event extends V1RequestFields {
  readonly version?: string;
  readonly requestContext: {
    readonly domainName?: string;
    /** When API Gateway received the request: its timeout counts from here. */
    readonly requestTimeEpoch?: number;
  };
}

/** Payload format 2.0: API Gateway HTTP APIs and Lambda Function URLs. */
export interface ApiGatewayV2Event {
  readonly version: string;
  readonly rawPath: string;
  /** Exactly as the client sent it (percent-encoding and repeated keys kept). */
  readonly rawQueryString?: string;
  /** The `Cookie` header, split; API Gateway removes the header itself. */
  readonly cookies?: readonly string[];
  /** Lower-case names; repeated headers joined with commas. */
  readonly headers?: StringMap;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: {
    readonly domainName?: string;
    readonly timeEpoch?: number;
    readonly http: { readonly method: string };
  };
}

/** An Application Load Balancer request: multi-value fields only when the target group enables them. */
export interface AlbEvent {
  readonly httpMethod: string;
  readonly path: string;
  readonly headers?: StringMap;
  readonly multiValueHeaders?: StringListMap;
  /** Not decoded by the load balancer: exactly as in the URL. */
  readonly queryStringParameters?: StringMap;
  readonly multiValueQueryStringParameters?: StringListMap;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly elb: { readonly targetGroupArn?: string } };
}

export type LambdaHttpEvent = ApiGatewayV1Event | ApiGatewayV2Event | AlbEvent;

/** The part of the Lambda context the adapter reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** The API Gateway, Function URL or ALB that invokes the function. */
export type FrontDoor = 'rest' | 'http-api' | 'function-url' | 'alb';

export interface AwsLambdaOptions extends LimitOptions {
  /**
   * The front door that invokes the function. Default: told by each event (REST and HTTP APIs,
   * Function URLs and ALBs send different shapes), with the payload cap checked against the
   * smallest of them (ALB's 1 MB) at startup. Naming it checks only its cap and refuses events
   * from any other front door.
   */
  readonly frontDoor?: FrontDoor;
  /**
   * The front door's timeout, in ms: REST APIs 29 000 (raise it with your Regional API's quota),
   * HTTP APIs 30 000 (never more), ALBs 60 000 (their idle timeout), Function URLs none (set it
   * to CloudFront's origin timeout when CloudFront is in front). Default: `HANGTIME_TIME_LIMIT_MS`,
   * else those.
   */
  readonly frontDoorTimeoutMs?: number;
}

export type AwsLambdaHandler = (event: LambdaHttpEvent, context?: LambdaContext) => Promise<LambdaHttpResult>;
