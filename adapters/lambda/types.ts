/**
 * What every Lambda-style HTTP event shares (AWS Lambda's front doors and Netlify Functions v1),
 * typed structurally so that hangtime's declarations do not depend on `@types/aws-lambda`.
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

/** How the answer must be shaped for the front door that sent the event. */
export type ResultFormat = 'v1' | 'v2' | 'alb' | 'alb-multi';

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
