import { responseForError, type HandlerContext } from '../../src/http.js';
import { beforeDeadline, lateAnswer } from '../deadline.js';
import type { AdapterTarget } from '../limits.js';
import { toHangtimeRequest, toWebRequest, type RequestParts } from './request.js';
import { answerFromPlain, answerFromResponse, type Answer } from './result.js';

/**
 * Answer one Lambda-style request. A hangtime instance takes the fast path (plain objects in and
 * out, no `Request` or `Response` per poll); a Web handler gets a real `Request` and its
 * `Response` is read back. Either way the answer comes before the deadline.
 */
export function invoke(
  target: AdapterTarget,
  parts: RequestParts,
  context: HandlerContext,
  onError: (error: unknown) => void,
): Promise<Answer> {
  return beforeDeadline(run(target, parts, context, onError), context, () => answerFromPlain(lateAnswer()), onError);
}

async function run(
  target: AdapterTarget,
  parts: RequestParts,
  context: HandlerContext,
  onError: (error: unknown) => void,
): Promise<Answer> {
  try {
    if (target.hangtime !== undefined) return answerFromPlain(await target.hangtime.respond(toHangtimeRequest(parts), context));
    return await answerFromResponse(await target.web(toWebRequest(parts, onError), context));
  } catch (error) {
    onError(error);
    return answerFromPlain(responseForError(error));
  }
}

/**
 * What the function's own clock says is left, or nothing when the context has no usable clock:
 * compatibility wrappers (Netlify's `withLambda`) stub `getRemainingTimeInMillis` to return 0,
 * and a real runtime never starts an invocation with no time left.
 */
export function remainingMs(context: unknown): number | undefined {
  const clock = (context as { getRemainingTimeInMillis?: unknown } | null | undefined)?.getRemainingTimeInMillis;
  if (typeof clock !== 'function') return undefined;
  let value: unknown;
  try {
    value = clock.call(context);
  } catch {
    return undefined;
  }
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
