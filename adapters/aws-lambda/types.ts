/**
 * The Lambda HTTP events and results this adapter reads and writes, typed structurally so that
 * hangtime's declarations do not depend on `@types/aws-lambda` (whose `APIGatewayProxyEvent`,
 * `APIGatewayProxyEventV2`, `LambdaFunctionURLEvent` and `ALBEvent` are all assignable here).
 */

export type StringMap = Readonly<Record<string, string | undefined>>;
export type StringListMap = Readonly<Record<string, readonly string[] | undefined>>;

/** The request fields of payload format 1.0, which Netlify's v1 events share. */
export interface V1RequestFields {
  readonly httpMethod: string;
  readonly path: string;
  readonly headers?: StringMap | null;
  readonly multiValueHeaders?: StringListMap | null;
  /** Decoded by API Gateway. */
  readonly queryStringParameters?: StringMap | null;
  readonly multiValueQueryStringParameters?: StringListMap | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

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

/** One result shape for every front door; each front door reads the fields it knows. */
export interface LambdaHttpResult {
  statusCode: number;
  /** ALB only: `"200 OK"`. */
  statusDescription?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  /** Payload format 2.0 only: one `Set-Cookie` each. */
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** The API Gateway, Function URL or ALB that invokes the function. */
export type FrontDoor = 'rest' | 'http-api' | 'function-url' | 'alb';
