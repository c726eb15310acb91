import { errorResponse, type PlainResponse } from '../../src/http.js';
import { utf8Length } from '../../src/log.js';
import { bytesToBase64 } from './base64.js';
import { STATUS_TEXT } from './status-text.js';
import type { LambdaHttpResult, ResultFormat } from './types.js';

/** An answer ready for any front door: headers without `Set-Cookie`, cookies apart, body encoded. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly cookies: readonly string[];
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

export function answerFromPlain(plain: PlainResponse): Answer {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(plain.headers)) {
    if (name.toLowerCase() === 'set-cookie') cookies.push(value);
    else headers[name] = value;
  }
  const body = plain.status === 204 || plain.status === 304 ? '' : plain.body;
  return { status: plain.status, headers, cookies, body, isBase64Encoded: false };
}

// Bodies the front doors can carry as text; everything else goes base64 (ALB, HTTP APIs and
// Function URLs decode it; REST APIs need the type in `binaryMediaTypes`, see docs/platforms.md).
const TEXTUAL =
  /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|graphql|x-ndjson)\b|[^;]*\+(json|xml)\b|image\/svg\+xml)/i;

export async function answerFromResponse(response: Response): Promise<Answer> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const encoded = response.headers.has('content-encoding') && response.headers.get('content-encoding') !== 'identity';
  let body: string | undefined;
  if (bytes.length === 0) body = '';
  else if (TEXTUAL.test(type) && !encoded) body = decodeUtf8(bytes);
  return {
    status: response.status,
    headers,
    cookies: response.headers.getSetCookie(),
    body: body ?? bytesToBase64(bytes),
    isBase64Encoded: body === undefined,
  };
}

/** The result object for a front door. */
export function formatResult(answer: Answer, format: ResultFormat, onError: (error: unknown) => void): LambdaHttpResult {
  const base = { statusCode: answer.status, body: answer.body, isBase64Encoded: answer.isBase64Encoded };
  const cookies = [...answer.cookies];
  switch (format) {
    case 'v2':
      return { ...base, headers: answer.headers, ...(cookies.length > 0 ? { cookies } : {}) };
    case 'v1':
      return { ...base, headers: answer.headers, ...(cookies.length > 0 ? { multiValueHeaders: { 'set-cookie': cookies } } : {}) };
    case 'alb-multi': {
      const multiValueHeaders: Record<string, string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) multiValueHeaders[name] = [value];
      if (cookies.length > 0) multiValueHeaders['set-cookie'] = cookies;
      return { ...base, statusDescription: statusDescription(answer.status), multiValueHeaders };
    }
    case 'alb': {
      if (cookies.length > 1) {
        onError(
          new Error(
            `An ALB target group without multi-value headers carries one Set-Cookie; ${cookies.length - 1} dropped. Enable lambda.multi_value_headers.enabled.`,
          ),
        );
      }
      const headers = cookies.length > 0 ? { ...answer.headers, 'set-cookie': cookies[0]! } : answer.headers;
      return { ...base, statusDescription: statusDescription(answer.status), headers };
    }
  }
}

/**
 * Keep a result under the platform's cap. The core's answers are cut to fit (the body budget
 * allows for JSON escaping); a Web handler's answer is checked here, exactly, and replaced by a
 * clean 500 when it would not fit, instead of the platform's own 502.
 */
export function fitResult(
  result: LambdaHttpResult,
  format: ResultFormat,
  maxResponseBytes: number,
  onError: (error: unknown) => void,
): LambdaHttpResult {
  // Escaping grows a byte to at most 6 (`\u001f`): below this size no measurement is needed.
  if (utf8Length(result.body) * 6 + 8 * 1024 <= maxResponseBytes) return result;
  const size = utf8Length(JSON.stringify(result));
  if (size <= maxResponseBytes) return result;
  onError(new RangeError(`The answer is ${size} bytes as a Lambda result, more than this front door accepts (${maxResponseBytes})`));
  const tooLarge = errorResponse(500, 'internal', 'The answer is larger than this platform accepts');
  return formatResult(answerFromPlain(tooLarge), format, onError);
}

function statusDescription(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined; // Not UTF-8 after all: send the bytes as they are, base64.
  }
}
